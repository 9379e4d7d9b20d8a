/*
** version.c — the library's version and status-code texts: public, and usable by every
** layer (core/, lua/ and engine/ all report status codes).
*/
#include "../include/warden.h"

const char *warden_version(void)
{
    return WARDEN_VERSION_STRING;
}

const char *warden_strerror(int code)
{
    switch (code) {
    case WARDEN_OK:               return "success";
    case WARDEN_E_INVALID_ARG:    return "invalid argument";
    case WARDEN_E_NOMEM:          return "out of memory";
    case WARDEN_E_IO:             return "input/output error";
    case WARDEN_E_CONFIG:         return "configuration error";
    case WARDEN_E_SECURITY:       return "message rejected by security processing";
    case WARDEN_E_NOT_APPLICABLE: return "property does not apply";
    case WARDEN_E_POLICY:         return "policy set does not load";
    case WARDEN_E_INTERNAL:       return "internal error";
    }
    return "unknown status";
}
