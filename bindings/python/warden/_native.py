"""ctypes declarations of libwarden's public C API (include/warden.h) and the library search.

Everything here mirrors warden.h one to one; the Pythonic layer is in ``warden/__init__.py``.
The library is looked up, in order:

1. the path in the environment variable ``WARDEN_LIBRARY`` (an error if it does not load);
2. the build tree, when this package is used from a source checkout
   (``<checkout>/build/lib/libwarden.so`` first, then ``<checkout>/build*/lib`` and
   ``<checkout>/build/*/lib``, the most recently built first, skipping AddressSanitizer builds
   unless the ASan runtime is already loaded into the process);
3. the system loader: ``ctypes.util.find_library("warden")``, then ``libwarden.so.0``.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_int, c_int64, c_size_t,
                    c_uint64, c_void_p)
from typing import List, Optional, Tuple

# --- status codes, property ids, constants (warden.h) ------------------------------------------

OK = 0
E_INVALID_ARG = 1
E_NOMEM = 2
E_IO = 3
E_CONFIG = 4
E_SECURITY = 5
E_NOT_APPLICABLE = 6
E_POLICY = 7
E_INTERNAL = 8

MESSAGE_PROPERTY_USERNAME = 14
MESSAGE_PROPERTY_ENCODED_CERT = 15
MESSAGE_PROPERTY_SAML_ASSERTION = 19
MESSAGE_PROPERTY_PROTECTION_LEVEL = 21
MESSAGE_PROPERTY_ACTION = 1000
MESSAGE_PROPERTY_OPERATION = 1001
MESSAGE_PROPERTY_TO = 1002
MESSAGE_PROPERTY_MESSAGE_ID = 1003
MESSAGE_PROPERTY_TIMESTAMP_CREATED = 1004
MESSAGE_PROPERTY_TIMESTAMP_EXPIRES = 1005
MESSAGE_PROPERTY_SIGNED_PARTS = 1006
MESSAGE_PROPERTY_SIGNED_PART_LIST = 1007
MESSAGE_PROPERTY_SOAP_VERSION = 1008
MESSAGE_PROPERTY_ATTRS = 1009
MESSAGE_PROPERTY_NOW = 1010
MESSAGE_PROPERTY_HTTP_ACTION = 1011
MESSAGE_PROPERTY_ENCRYPTED_PARTS = 1012
MESSAGE_PROPERTY_ENCRYPTED_PART_LIST = 1013
MESSAGE_PROPERTY_HTTP_METHOD = 1014
MESSAGE_PROPERTY_HTTP_PATH = 1015

PROTECTION_NONE = 1
PROTECTION_SIGN = 2
PROTECTION_SIGN_AND_ENCRYPT = 3

TOKEN_PROPERTY_KEY_TYPE = 1
TOKEN_PROPERTY_VALID_FROM_TIME = 2
TOKEN_PROPERTY_VALID_TILL_TIME = 3
TOKEN_PROPERTY_SERIALIZED_XML = 4
TOKEN_PROPERTY_ATTACHED_REFERENCE_XML = 5
TOKEN_PROPERTY_UNATTACHED_REFERENCE_XML = 6
TOKEN_PROPERTY_SYMMETRIC_KEY = 7
TOKEN_PROPERTY_KIND = 1000
TOKEN_PROPERTY_ROLE = 1001
TOKEN_PROPERTY_USERNAME = 1002
TOKEN_PROPERTY_CERT_DER = 1003
TOKEN_PROPERTY_CERT_SUBJECT = 1004
TOKEN_PROPERTY_CERT_ISSUER = 1005
TOKEN_PROPERTY_CERT_SERIAL = 1006
TOKEN_PROPERTY_CERT_SHA256 = 1007
TOKEN_PROPERTY_CERT_KEY_TYPE = 1008
TOKEN_PROPERTY_CERT_KEY_BITS = 1009
TOKEN_PROPERTY_CERT_SUBJECT_ATTRS = 1010
TOKEN_PROPERTY_CERT_ISSUER_ATTRS = 1011
TOKEN_PROPERTY_CERT_SAN_DNS = 1012
TOKEN_PROPERTY_CERT_SAN_EMAIL = 1013
TOKEN_PROPERTY_CERT_SAN_URI = 1014
TOKEN_PROPERTY_CERT_SAN_IP = 1015
TOKEN_PROPERTY_PASSWORD_TYPE = 1016
TOKEN_PROPERTY_SAML_VERSION = 1017
TOKEN_PROPERTY_SAML_ID = 1018
TOKEN_PROPERTY_SAML_ISSUER = 1019
TOKEN_PROPERTY_SAML_SUBJECT = 1020
TOKEN_PROPERTY_SAML_NAME_ID_FORMAT = 1021
TOKEN_PROPERTY_SAML_CONFIRMATION = 1022
TOKEN_PROPERTY_SAML_AUDIENCES = 1023
TOKEN_PROPERTY_SAML_NOT_BEFORE = 1024
TOKEN_PROPERTY_SAML_NOT_ON_OR_AFTER = 1025
TOKEN_PROPERTY_SAML_AUTHN_CONTEXT = 1026
TOKEN_PROPERTY_SAML_ATTRIBUTES = 1027
TOKEN_PROPERTY_SAML_ISSUE_INSTANT = 1028

KEY_TYPE_NONE = 1
KEY_TYPE_SYMMETRIC = 2
KEY_TYPE_ASYMMETRIC = 3

LOG_ERROR = 1
LOG_WARNING = 2
LOG_INFO = 3

PASSWORD_CAPACITY = 1024

# --- structures ----------------------------------------------------------------------------------


class Error(Structure):
    _fields_ = [("code", c_int), ("reason", c_char * 48), ("text", c_char * 256)]


class String(Structure):
    _fields_ = [("data", c_void_p), ("length", c_size_t)]


class Bytes(Structure):
    _fields_ = [("data", c_void_p), ("length", c_size_t)]


class Attr(Structure):
    _fields_ = [("name", c_char_p), ("value", c_char_p)]


class StringList(Structure):
    _fields_ = [("items", POINTER(String)), ("count", c_size_t)]


class AttrList(Structure):
    _fields_ = [("items", POINTER(Attr)), ("count", c_size_t)]


class ReceiveOptions(Structure):
    _fields_ = [("size", c_size_t), ("now", c_int64), ("transport_cert", Bytes),
                ("attrs", POINTER(Attr)), ("attr_count", c_size_t),
                ("http_action", c_char_p), ("http_method", c_char_p), ("http_path", c_char_p)]


class Status(Structure):
    _fields_ = [("size", c_size_t), ("revision", c_char * 80), ("loaded_at", c_int64), ("reloads", c_uint64),
                ("reload_failures", c_uint64), ("last_error", c_char * 256),
                ("last_error_at", c_int64), ("replay_backend", c_char * 16),
                ("replay_entries", c_uint64), ("failing_since", c_int64), ("stale", ctypes.c_int32)]


PasswordFn = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t, POINTER(c_size_t))
ReportFn = CFUNCTYPE(None, c_void_p, c_char_p, c_int, c_int, c_char_p)
LogFn = CFUNCTYPE(None, c_void_p, c_int, c_char_p)
SamlValidateFn = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t)

# --- finding the library -------------------------------------------------------------------------

LIBRARY_NAME = "libwarden.so"


def _checkout_root() -> Optional[str]:
    """The source checkout this package sits in (bindings/python/warden), or None when the
    package was installed elsewhere."""
    package = os.path.dirname(os.path.abspath(__file__))
    project = os.path.dirname(package)  # bindings/python
    root = os.path.dirname(os.path.dirname(project))
    if (os.path.isfile(os.path.join(project, "pyproject.toml"))
            and os.path.isfile(os.path.join(root, "include", "warden.h"))):
        return root
    return None


def _needs_asan(path: str) -> bool:
    """True when the shared object links the AddressSanitizer runtime (a -DWARDEN_SANITIZE=ON
    build). Such a library only loads into a process that has the runtime preloaded."""
    try:
        with open(path, "rb") as f:
            return b"libasan.so" in f.read()
    except OSError:
        return False


def _asan_loaded() -> bool:
    try:
        with open("/proc/self/maps", "r") as f:
            return "libasan.so" in f.read()
    except OSError:
        return False


ASAN_HINT = ("it is an AddressSanitizer build: run Python with the ASan runtime preloaded, e.g. "
             "LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 python3 ...")


def build_tree_candidates() -> List[str]:
    """The build-tree libraries, in the order they are tried."""
    root = _checkout_root()
    if root is None:
        return []
    first = os.path.join(root, "build", "lib", LIBRARY_NAME)
    others = set(glob.glob(os.path.join(root, "build*", "lib", LIBRARY_NAME)))
    others |= set(glob.glob(os.path.join(root, "build", "*", "lib", LIBRARY_NAME)))
    others.discard(first)

    def newest_first(path: str) -> Tuple[float, str]:
        try:
            return (-os.path.getmtime(path), path)
        except OSError:
            return (0.0, path)
    return ([first] if os.path.isfile(first) else []) + sorted(others, key=newest_first)


def load() -> Tuple[ctypes.CDLL, str]:
    """Loads libwarden; returns (library, where it came from)."""
    explicit = os.environ.get("WARDEN_LIBRARY")
    if explicit:
        if _needs_asan(explicit) and not _asan_loaded():
            raise ImportError("WARDEN_LIBRARY=%s cannot be loaded: %s" % (explicit, ASAN_HINT))
        try:
            return ctypes.CDLL(explicit), explicit
        except OSError as e:
            raise ImportError("WARDEN_LIBRARY=%s cannot be loaded: %s" % (explicit, e)) from e
    tried: List[str] = []
    asan_ok = None
    for path in build_tree_candidates():
        if _needs_asan(path):
            if asan_ok is None:
                asan_ok = _asan_loaded()
            if not asan_ok:
                tried.append("%s (skipped: AddressSanitizer build)" % path)
                continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    names = []
    found = ctypes.util.find_library("warden")
    if found:
        names.append(found)
    names.append("libwarden.so.0")
    for name in names:
        try:
            return ctypes.CDLL(name), name
        except OSError as e:
            tried.append("%s (%s)" % (name, e))
    raise ImportError("libwarden was not found. Set WARDEN_LIBRARY to the path of libwarden.so, "
                      "build it in the source checkout (cmake -S . -B build && cmake --build build), "
                      "or install it where the system loader finds it. Tried: " + "; ".join(tried))


lib, library_path = load()

# --- function declarations ------------------------------------------------------------------------


def _declare(name: str, restype, argtypes, required: bool = True):
    try:
        fn = getattr(lib, name)
    except AttributeError:
        if required:
            raise ImportError("%s lacks the function %s (a libwarden older than this binding?)"
                              % (library_path, name)) from None
        return None
    fn.restype = restype
    fn.argtypes = argtypes
    return fn


_Error_p = POINTER(Error)

warden_version = _declare("warden_version", c_char_p, [])
warden_strerror = _declare("warden_strerror", c_char_p, [c_int])

warden_config_new = _declare("warden_config_new", c_int, [POINTER(c_void_p)])
warden_config_load = _declare("warden_config_load", c_int, [c_void_p, c_char_p, _Error_p])
warden_config_set = _declare("warden_config_set", c_int, [c_void_p, c_char_p, c_char_p, _Error_p])
warden_config_set_password_callback = _declare("warden_config_set_password_callback", c_int,
                                               [c_void_p, PasswordFn, c_void_p])
warden_config_set_logger = _declare("warden_config_set_logger", c_int, [c_void_p, LogFn, c_void_p],
                                    required=False)
warden_config_set_saml_validator = _declare("warden_config_set_saml_validator", c_int,
                                            [c_void_p, SamlValidateFn, c_void_p], required=False)
warden_config_free = _declare("warden_config_free", None, [c_void_p])

warden_engine_new = _declare("warden_engine_new", c_int, [c_void_p, POINTER(c_void_p), _Error_p])
warden_engine_open = _declare("warden_engine_open", c_int, [c_char_p, POINTER(c_void_p), _Error_p])
warden_engine_free = _declare("warden_engine_free", None, [c_void_p])
warden_engine_receive = _declare("warden_engine_receive", c_int,
                                 [c_void_p, c_char_p, c_size_t, POINTER(ReceiveOptions),
                                  POINTER(c_void_p), _Error_p])

warden_message_get_property = _declare("warden_message_get_property", c_int,
                                       [c_void_p, c_int, c_void_p, c_size_t])
warden_message_token_count = _declare("warden_message_token_count", c_size_t, [c_void_p])
warden_message_token = _declare("warden_message_token", c_void_p, [c_void_p, c_size_t])
warden_message_free = _declare("warden_message_free", None, [c_void_p])
warden_message_body_text = _declare("warden_message_body_text", c_int,
                                    [c_void_p, c_char_p, c_void_p, c_size_t, POINTER(c_size_t)])

warden_token_get_property = _declare("warden_token_get_property", c_int,
                                     [c_void_p, c_int, c_void_p, c_size_t])

warden_engine_decide = _declare("warden_engine_decide", c_int,
                                [c_void_p, c_void_p, POINTER(c_void_p), _Error_p])
warden_engine_explain = _declare("warden_engine_explain", c_int,
                                 [c_void_p, c_void_p, POINTER(c_void_p), _Error_p], required=False)
warden_decision_explanation = _declare("warden_decision_explanation", c_char_p, [c_void_p],
                                       required=False)
warden_decision_allowed = _declare("warden_decision_allowed", c_int, [c_void_p])
warden_decision_stage = _declare("warden_decision_stage", c_char_p, [c_void_p])
warden_decision_reason = _declare("warden_decision_reason", c_char_p, [c_void_p])
warden_decision_revision = _declare("warden_decision_revision", c_char_p, [c_void_p])
warden_decision_rule_count = _declare("warden_decision_rule_count", c_size_t, [c_void_p])
warden_decision_rule = _declare("warden_decision_rule", c_char_p, [c_void_p, c_size_t])
warden_decision_error_count = _declare("warden_decision_error_count", c_size_t, [c_void_p])
warden_decision_error = _declare("warden_decision_error", c_char_p, [c_void_p, c_size_t])
warden_decision_free = _declare("warden_decision_free", None, [c_void_p])

warden_engine_status = _declare("warden_engine_status", c_int, [c_void_p, POINTER(Status)])
warden_engine_reload = _declare("warden_engine_reload", c_int, [c_void_p, _Error_p],
                                required=False)

# for programs that write the decision log themselves (optional: older libraries lack them)
warden_engine_keep_decision_facts = _declare("warden_engine_keep_decision_facts", c_int,
                                             [c_void_p, c_int], required=False)
warden_engine_rejection = _declare("warden_engine_rejection", c_int,
                                   [c_void_p, _Error_p, c_int64, POINTER(c_void_p)],
                                   required=False)
# c_void_p, not c_char_p: the line is malloc'd and must reach libc's free unconverted
warden_decision_log_line = _declare("warden_decision_log_line", c_void_p, [c_void_p, c_char_p],
                                    required=False)


def _libc_free():
    """The free that libwarden's malloc pairs with, for the strings it hands over
    (warden_decision_log_line): looked up in the process's global scope, as libwarden's own
    calls resolve, not in libc.so.6's handle, which would bypass an interposed allocator
    (the AddressSanitizer runtime of a sanitizer build)."""
    fn = ctypes.CDLL(None).free
    fn.restype = None
    fn.argtypes = [c_void_p]
    return fn


libc_free = _libc_free()

warden_policy_check = _declare("warden_policy_check", c_int,
                               [c_void_p, c_char_p, ReportFn, c_void_p, POINTER(c_size_t), _Error_p])
warden_policy_test = _declare("warden_policy_test", c_int,
                              [c_void_p, c_char_p, ReportFn, c_void_p, POINTER(c_size_t),
                               POINTER(c_size_t), _Error_p])
