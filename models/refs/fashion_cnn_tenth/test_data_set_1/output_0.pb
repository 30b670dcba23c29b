
BprobsJ(љду7І6nTR4Зт7лVB5ЫЅ?‚шp8VЫ9ЌNп9eY7