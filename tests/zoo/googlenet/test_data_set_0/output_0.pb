
BprobsJ(·D;§qx=p:k| ;šT>¸Ý1<o·ú>³a>/¡—=~q<