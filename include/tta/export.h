/* export.h - TTA_API marks the library's public functions: libtta.so is built with
 * -fvisibility=hidden, so these are the only symbols it exports. And the library's version. */
#ifndef TTA_EXPORT_H
#define TTA_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define TTA_API __attribute__((visibility("default")))
#else
#define TTA_API
#endif

#define TTA_VERSION_MAJOR 0
#define TTA_VERSION_MINOR 5
#define TTA_VERSION_PATCH 0
#define TTA_VERSION "0.5.0" /* the library the headers describe; tta_version(): the one linked */

#endif
