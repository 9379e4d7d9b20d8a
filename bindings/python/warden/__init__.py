"""Warden for Python: WS-Security verification and Lua policy decisions over libwarden (ctypes).

    import warden

    with warden.Engine(trust=["ca.pem"], users="users.txt", policies="policies/") as engine:
        try:
            with engine.receive(request_bytes) as message:
                print(message.cert.subject["CN"], sorted(message.signed))
                decision = engine.decide(message)
                if decision.allowed:
                    ...
        except warden.SecurityRejected as e:
            print("rejected:", e.reason, e.detail)

Handles: an Engine, a Message and a Decision each own a C object. ``close()`` (or leaving a
``with`` block) frees it at once; otherwise it is freed when the Python object is garbage
collected. A Message and a Decision keep their engine's C object alive, so closing an Engine
while messages or decisions made from it are still open is safe: the C engine is freed when the
last of them goes.

Threads: one Engine may be used from any number of threads; ``receive`` and ``decide`` release
the GIL while libwarden works. A Message or Decision may be read from several threads, but must
not be closed while another thread uses it.
"""
from __future__ import annotations

import ctypes
import datetime as _dt
import json
import logging
import os
import ssl
import threading
from ctypes import byref, c_size_t, c_void_p, sizeof
from dataclasses import dataclass, field
from typing import (Any, Callable, Dict, FrozenSet, List, Mapping, Optional, Tuple,
                    Union)

from . import _native as _n

__all__ = [
    "Engine", "Message", "Token", "Certificate", "SubjectAltNames", "Timestamp", "Decision",
    "Status", "Finding", "CheckReport", "TestReport", "check", "test",
    "WardenError", "InvalidArgument", "OutOfMemory", "WardenIOError", "ConfigError",
    "SecurityRejected", "NotApplicable", "PolicyError", "InternalError",
    "library_path", "library_version", "__version__",
]

__version__ = "0.2.0"

#: Where libwarden was loaded from (a path, or a name the system loader resolved).
library_path: str = _n.library_path
#: The loaded library's version string, e.g. "0.2.0".
library_version: str = _n.warden_version().decode()

PathLike = Union[str, "os.PathLike[str]"]
TimeLike = Union[_dt.datetime, int, float, str]

# --- errors ------------------------------------------------------------------------------------


class WardenError(Exception):
    """A libwarden call failed. ``code`` is the WARDEN_E_* status, ``reason`` the stable reason
    code ("" when none applies) and ``detail`` the text for a person."""

    code: int = 0

    def __init__(self, detail: str = "", reason: str = "", code: Optional[int] = None):
        if code is not None:
            self.code = code
        self.reason = reason
        self.detail = detail
        super().__init__(detail or reason or _strerror(self.code))

    def __str__(self) -> str:
        text = self.detail or _strerror(self.code)
        return "%s: %s" % (self.reason, text) if self.reason else text


class InvalidArgument(WardenError, ValueError):
    """WARDEN_E_INVALID_ARG: a value libwarden refuses."""
    code = _n.E_INVALID_ARG


class OutOfMemory(WardenError, MemoryError):
    """WARDEN_E_NOMEM."""
    code = _n.E_NOMEM


class WardenIOError(WardenError, OSError):
    """WARDEN_E_IO: a file (config, trust bundle, users file, policy directory) could not be
    read."""
    code = _n.E_IO

    def __init__(self, detail: str = "", reason: str = "", code: Optional[int] = None):
        WardenError.__init__(self, detail, reason, code)

    def __str__(self) -> str:
        return WardenError.__str__(self)


class ConfigError(WardenError):
    """WARDEN_E_CONFIG: a configuration value or file is wrong; ``detail`` names the key, and
    ``key`` holds it when the error came from a keyword option."""
    code = _n.E_CONFIG
    key: Optional[str] = None


class SecurityRejected(WardenError):
    """WARDEN_E_SECURITY: security processing rejected the message. ``reason`` is the stable
    rejection code ("digest-mismatch", "timestamp-expired", "replay", ...; docs/reference.md,
    Reason codes) and ``detail`` says what happened."""
    code = _n.E_SECURITY


class NotApplicable(WardenError):
    """WARDEN_E_NOT_APPLICABLE: the property does not apply to this message or token."""
    code = _n.E_NOT_APPLICABLE


class PolicyError(WardenError):
    """WARDEN_E_POLICY: a policy set does not load (or the engine has none and decide was
    called)."""
    code = _n.E_POLICY


class InternalError(WardenError):
    """WARDEN_E_INTERNAL."""
    code = _n.E_INTERNAL


_ERRORS: Dict[int, type] = {
    _n.E_INVALID_ARG: InvalidArgument, _n.E_NOMEM: OutOfMemory, _n.E_IO: WardenIOError,
    _n.E_CONFIG: ConfigError, _n.E_SECURITY: SecurityRejected,
    _n.E_NOT_APPLICABLE: NotApplicable, _n.E_POLICY: PolicyError, _n.E_INTERNAL: InternalError,
}


def _strerror(code: int) -> str:
    return _n.warden_strerror(code).decode()


def _error(status: int, err: Optional[_n.Error] = None) -> WardenError:
    """The exception for a failed call; err (when given and filled) supplies reason and text."""
    reason = detail = ""
    if err is not None and err.code != 0:
        reason = err.reason.decode("utf-8", "replace")
        detail = err.text.decode("utf-8", "replace")
    cls = _ERRORS.get(status, WardenError)
    return cls(detail or _strerror(status), reason, status)


# --- value conversion ----------------------------------------------------------------------------

_UTC = _dt.timezone.utc


#: The years a datetime (and the ISO-8601 form) holds, 0001-9999, in Unix seconds. A delivered
#: message can carry a time outside them (a UsernameToken Created of 9999-12-31T23:59:59-14:00
#: is in the year 10000); it is shown as the nearest end, as the C library and `warden` do.
_EARLIEST, _LATEST = -62135596800, 253402300799


def _time(seconds: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(min(max(seconds, _EARLIEST), _LATEST), _UTC)


def _iso(t: _dt.datetime) -> str:
    t = t.astimezone(_UTC)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (t.year, t.month, t.day, t.hour, t.minute, t.second)


def _unix(value: TimeLike) -> int:
    """Unix seconds from a datetime (naive = UTC), a number or an ISO-8601 string."""
    if isinstance(value, bool):
        raise TypeError("now must be a datetime, Unix seconds or an ISO-8601 string, not bool")
    if isinstance(value, (int, float)):
        seconds = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = _dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("now: %r is not an ISO-8601 time such as 2026-11-25T12:00:30Z"
                             % value) from None
        return _unix(parsed)
    elif isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_UTC)
        seconds = int(value.timestamp())
    else:
        raise TypeError("now must be a datetime, Unix seconds or an ISO-8601 string, not %s"
                        % type(value).__name__)
    if seconds <= 0:
        raise ValueError("now must be after 1970-01-01T00:00:00Z (None means the system clock)")
    return seconds


def _text(data: Optional[bytes]) -> str:
    return data.decode("utf-8", "surrogateescape") if data is not None else ""


def _string(s: _n.String) -> str:
    return ctypes.string_at(s.data, s.length).decode("utf-8", "surrogateescape") if s.length else ""


# --- configuration -------------------------------------------------------------------------------

#: Top-level sections of the config (docs/reference.md, Configuration): a keyword such as ``clock_ttl``
#: is the key ``clock.ttl``.
_SECTIONS = ("require", "algorithms", "clock", "username", "saml", "replay", "limits", "reload", "log")
_LISTS = ("trust", "certs", "saml.issuers")


def _key_name(name: str) -> str:
    if "." in name:
        return name
    head, sep, rest = name.partition("_")
    if sep and head in _SECTIONS and rest:
        return head + "." + rest
    return name


def _value_text(key: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(_value_text(key, v) for v in value)
    raise TypeError("config key %s: cannot use a value of type %s" % (key, type(value).__name__))


def _settings(options: Mapping[str, Any], prefix: str = "") -> List[Tuple[str, str]]:
    """Keyword options -> (dotted key, text) pairs for warden_config_set, in order."""
    out: List[Tuple[str, str]] = []
    for name, value in options.items():
        key = prefix + name if prefix else _key_name(name)
        if isinstance(value, Mapping):
            out += _settings(value, key + ".")
        elif key in _LISTS and isinstance(value, (list, tuple)):
            out += [(key, _value_text(key, item)) for item in value]
        elif key in _LISTS and value is None:
            continue
        else:
            out.append((key, _value_text(key, value)))
    return out


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _cut(text: str, limit: int) -> bytes:
    """text as UTF-8 in at most limit bytes, cut at a character boundary."""
    raw = _encode(text)
    if len(raw) <= limit:
        return raw
    return raw[:limit].decode("utf-8", "ignore").encode("utf-8")


def _der(cert: Union[bytes, bytearray, memoryview, str]) -> bytes:
    """A certificate as DER: DER bytes as they are, PEM (text or bytes) decoded. Whether it
    parses is libwarden's to say (a receive with one that does not is rejected)."""
    if isinstance(cert, str):
        cert = cert.encode("ascii", "surrogateescape")
    elif isinstance(cert, (bytearray, memoryview)):
        cert = bytes(cert)
    elif not isinstance(cert, bytes):
        raise TypeError("transport_cert must be DER bytes or PEM text, not %s" % type(cert).__name__)
    if b"-----BEGIN CERTIFICATE-----" in cert:
        try:
            return ssl.PEM_cert_to_DER_cert(cert.decode("ascii"))
        except (ValueError, UnicodeDecodeError) as e:
            raise ValueError("transport_cert is not a PEM certificate: %s" % e) from None
    if not cert:
        raise ValueError("transport_cert is empty")
    return cert


class _Config:
    """A warden_config for the life of one call; freed by close()."""

    def __init__(self, config: Optional[PathLike], options: Mapping[str, Any]):
        handle = c_void_p()
        status = _n.warden_config_new(byref(handle))
        if status != _n.OK:
            raise _error(status)
        self.ptr: Optional[int] = handle.value
        try:
            if config is not None:
                err = _n.Error()
                status = _n.warden_config_load(self.ptr, _encode(os.fspath(config)), byref(err))
                if status != _n.OK:
                    raise _error(status, err)
            for key, text in _settings(options):
                err = _n.Error()
                status = _n.warden_config_set(self.ptr, _encode(key), _encode(text), byref(err))
                if status != _n.OK:
                    e = _error(status, err)
                    if isinstance(e, ConfigError):
                        e.key = key
                    raise e
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        ptr, self.ptr = self.ptr, None
        if ptr:
            _n.warden_config_free(ptr)

    def __enter__(self) -> "_Config":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


_LOG_LEVELS = {_n.LOG_ERROR: logging.ERROR, _n.LOG_WARNING: logging.WARNING,
               _n.LOG_INFO: logging.INFO}

Logger = Union[logging.Logger, Callable[[int, str], None]]
Passwords = Union[Mapping[str, str], Callable[[str], Optional[str]]]


def _log_callback(logger: Logger) -> Any:
    if isinstance(logger, logging.Logger):
        target = logger

        def emit(level: int, text: str) -> None:
            target.log(_LOG_LEVELS.get(level, logging.INFO), "%s", text)
    elif callable(logger):
        emit = logger  # type: ignore[assignment]
    else:
        raise TypeError("logger must be a logging.Logger or a callable(level, message)")

    def log(context: Any, level: int, message: Optional[bytes]) -> None:
        try:
            emit(_LOG_LEVELS.get(level, logging.INFO), _text(message))
        except BaseException:  # an exception must never unwind into C
            pass
    return _n.LogFn(log)


def _password_callback(passwords: Passwords) -> Any:
    if isinstance(passwords, Mapping):
        table = passwords
        lookup: Callable[[str], Optional[str]] = table.get
    elif callable(passwords):
        lookup = passwords
    else:
        raise TypeError("passwords must be a mapping of user to password or a callable(user)")

    def callback(context: Any, user: int, user_length: int, buffer: int, capacity: int,
                 length: Any) -> int:
        try:
            name = ctypes.string_at(user, user_length).decode("utf-8", "surrogateescape")
            password = lookup(name)
            if password is None:
                return _n.E_NOT_APPLICABLE
            raw = password if isinstance(password, bytes) else _encode(password)
            if len(raw) > capacity:
                return _n.E_INVALID_ARG
            ctypes.memmove(buffer, raw, len(raw))
            length[0] = len(raw)
            return _n.OK
        except BaseException:
            return _n.E_INTERNAL
    return _n.PasswordFn(callback)


def _saml_callback(validate: Callable[[str], Optional[str]]) -> Any:
    if not callable(validate):
        raise TypeError("saml_validator must be a callable(assertion_xml) -> None or a reason")

    def callback(context: Any, assertion: int, length: int, reason: int, capacity: int) -> int:
        try:
            refusal = validate(ctypes.string_at(assertion, length).decode("utf-8", "surrogateescape"))
            if refusal is None:
                return _n.OK
            text = _cut(str(refusal), capacity - 1)
            ctypes.memmove(reason, text + b"\0", len(text) + 1)
            return _n.E_SECURITY
        except BaseException:
            return _n.E_INTERNAL  # a validator that fails refuses (fail closed)
    return _n.SamlValidateFn(callback)


# --- engine --------------------------------------------------------------------------------------


class _EngineHandle:
    """Owns the C engine. Messages and decisions hold a reference to it, so the engine is freed
    only after the last of them (and the Engine's own reference) is gone. It also keeps the
    ctypes callbacks given to the config alive for as long as the engine may call them."""

    __slots__ = ("ptr", "callbacks", "__weakref__")

    def __init__(self, ptr: int, callbacks: Tuple[Any, ...]):
        self.ptr = ptr
        self.callbacks = callbacks

    def __del__(self) -> None:
        ptr, self.ptr = self.ptr, None
        if ptr:
            try:
                _n.warden_engine_free(ptr)
            except Exception:  # interpreter shutdown
                pass


@dataclass(frozen=True)
class Status:
    """The engine's policy status (warden_engine_status)."""
    revision: Optional[str]            #: "sha256:..."; None without a policy set
    loaded_at: Optional[_dt.datetime]  #: when the revision started serving
    reloads: int
    reload_failures: int
    last_error: Optional[str]          #: None when the last reload succeeded
    last_error_at: Optional[_dt.datetime]
    replay_backend: str = "none"       #: "memory", "redis" or "none" (replay.backend)
    replay_entries: int = 0            #: entries the replay cache holds (memory backend; else 0)
    failing_since: Optional[_dt.datetime] = None  #: when reloads started failing; None while they succeed
    stale: bool = False                #: reloads failed for longer than reload.max_stale_s ("policy-stale")


class Engine:
    """One Warden engine: trust store, users, replay cache and policy set. Thread-safe.

    ``Engine(config="warden.lua")`` reads a config file (docs/reference.md, Configuration);
    ``Engine(**options)`` sets config keys by name, and both may be combined (the keywords then
    override the file; ``trust`` and ``certs`` add to its lists). Dotted keys are written with an
    underscore after the section (``clock_ttl=300``) or as a nested dict
    (``clock={"ttl": 300}``); lists for ``trust``/``certs`` add each item, ``require_signed``
    takes a list of part names, booleans become true/false, None resets an optional key.

    Besides config keys: ``logger`` (a ``logging.Logger``, or ``callable(level, message)`` with
    ``logging`` levels) receives Warden's log lines; ``passwords`` (a mapping user -> password,
    or ``callable(user) -> password or None``) is consulted for UsernameTokens after the users
    file; ``saml_validator`` (``callable(assertion_xml) -> None or a reason``) sees every SAML
    assertion after the library's own checks and refuses it ("saml-invalid") by returning a
    reason (an exception refuses too). All may be called from any thread.
    """

    def __init__(self, config: Optional[PathLike] = None, *, logger: Optional[Logger] = None,
                 passwords: Optional[Passwords] = None,
                 saml_validator: Optional[Callable[[str], Optional[str]]] = None, **options: Any):
        self._handle: Optional[_EngineHandle] = None
        callbacks: List[Any] = []
        with _Config(config, options) as cfg:
            if logger is not None:
                if _n.warden_config_set_logger is None:
                    raise NotImplementedError("this libwarden has no warden_config_set_logger")
                fn = _log_callback(logger)
                callbacks.append(fn)
                status = _n.warden_config_set_logger(cfg.ptr, fn, None)
                if status != _n.OK:
                    raise _error(status)
            if passwords is not None:
                fn = _password_callback(passwords)
                callbacks.append(fn)
                status = _n.warden_config_set_password_callback(cfg.ptr, fn, None)
                if status != _n.OK:
                    raise _error(status)
            if saml_validator is not None:
                if _n.warden_config_set_saml_validator is None:
                    raise NotImplementedError("this libwarden has no warden_config_set_saml_validator")
                fn = _saml_callback(saml_validator)
                callbacks.append(fn)
                status = _n.warden_config_set_saml_validator(cfg.ptr, fn, None)
                if status != _n.OK:
                    raise _error(status)
            handle = c_void_p()
            err = _n.Error()
            status = _n.warden_engine_new(cfg.ptr, byref(handle), byref(err))
            if status != _n.OK:
                raise _error(status, err)
        self._handle = _EngineHandle(handle.value, tuple(callbacks))  # type: ignore[arg-type]

    # -- life cycle

    def close(self) -> None:
        """Lets go of the engine. The C engine is freed now, or, if messages or decisions made
        from it are still open, when the last of them is closed."""
        self._handle = None

    @property
    def closed(self) -> bool:
        return self._handle is None

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _live(self) -> _EngineHandle:
        handle = self._handle
        if handle is None:
            raise ValueError("the engine is closed")
        return handle

    # -- messages and decisions

    def receive(self, data: Union[bytes, bytearray, memoryview, str], now: Optional[TimeLike] = None,
                attrs: Optional[Mapping[str, str]] = None, *, http_action: Optional[str] = None,
                http_method: Optional[str] = None, http_path: Optional[str] = None,
                transport_cert: Union[bytes, str, None] = None) -> "Message":
        """Runs security processing on one SOAP message and returns the delivered Message.

        ``now`` is the evaluation time (a datetime, naive meaning UTC; Unix seconds; or an
        ISO-8601 string such as "2026-11-25T12:00:30Z"); None uses the system clock. ``attrs``
        are name -> string pairs the policies see as ``m.attrs``. ``http_action`` is the
        request's HTTP SOAPAction (policies' ``m.http_action``; it never replaces the message's
        own Action). ``http_method`` and ``http_path`` are the request's method ("POST") and the
        path of its target as received, without the query string ("/orders"): policies'
        ``m.http_method`` and ``m.http_path``. ``transport_cert`` is the TLS peer certificate your TLS stack verified
        (DER bytes, or PEM text or bytes): a token of kind and role "transport", which policies
        read as ``m.transport.cert`` (Warden does not verify its chain; it never counts as the
        message's signature).
        Raises SecurityRejected (with ``.reason``) when the message is rejected, also
        ("token-unsupported") when transport_cert does not parse as a certificate."""
        handle = self._live()
        if isinstance(data, str):
            raw = data.encode("utf-8")
        elif isinstance(data, bytes):
            raw = data
        elif isinstance(data, (bytearray, memoryview)):
            raw = bytes(data)
        else:
            raise TypeError("data must be bytes or str, not %s" % type(data).__name__)
        cert_der = _der(transport_cert) if transport_cert is not None else None
        http = {"http_action": http_action, "http_method": http_method, "http_path": http_path}
        for name, value in http.items():
            if value is not None and not isinstance(value, str):
                raise TypeError("%s must be a str" % name)
            if value is not None and "\0" in value:
                # C reads it up to the NUL: policies would judge a path the application never got
                raise ValueError("%s must not contain NUL" % name)
        given = {name: value for name, value in http.items() if value is not None}
        options = None
        if now is not None or attrs or given or cert_der is not None:
            options = _n.ReceiveOptions()
            options.size = sizeof(_n.ReceiveOptions)
            if now is not None:
                options.now = _unix(now)
            if attrs:
                items = list(attrs.items())
                array = (_n.Attr * len(items))()
                for i, (name, value) in enumerate(items):
                    if not isinstance(name, str) or not isinstance(value, str):
                        raise TypeError("attrs must map str to str")
                    array[i].name = _encode(name)
                    array[i].value = _encode(value)
                options.attrs = array
                options.attr_count = len(items)
            for name, value in given.items():
                setattr(options, name, _encode(value))
            if cert_der is not None:
                # the buffer lives in cert_der until the call returns; libwarden copies it
                options.transport_cert.data = ctypes.cast(ctypes.c_char_p(cert_der), c_void_p)
                options.transport_cert.length = len(cert_der)
            options = byref(options)
        out = c_void_p()
        err = _n.Error()
        status = _n.warden_engine_receive(handle.ptr, raw, len(raw), options, byref(out), byref(err))
        if status != _n.OK:
            raise _error(status, err)
        message = _new(Message)
        message._ptr = out.value
        message._engine = handle
        message._cache = {}
        return message

    def decide(self, message: "Message", explain: bool = False) -> "Decision":
        """Decides allow or deny for a delivered message. A policy error or limit is a deny
        Decision (reason "policy-error" / "policy-limit"), not an exception. Raises PolicyError
        when the engine has no policy set. The Decision's fields are read lazily.

        ``explain=True`` also records why (``Decision.explanation``: every rule with its file
        and line, whether its targets matched, what its ``when`` returned or raised, the
        instructions it used and its ``log()`` lines). It is slower: for authors and
        investigations, not for serving."""
        handle = self._handle
        if handle is None:
            raise ValueError("the engine is closed")
        try:
            mptr = message._ptr
        except AttributeError:
            raise TypeError("decide takes a warden.Message, not %s" % type(message).__name__) from None
        if mptr is None:
            raise ValueError("the message is closed")
        try:
            scratch = _thread.scratch
        except AttributeError:
            scratch = _thread.scratch = _Scratch()
        if explain:
            if _n.warden_engine_explain is None:
                raise NotImplementedError("this libwarden cannot explain decisions (too old)")
            status = _n.warden_engine_explain(handle.ptr, mptr, scratch.out_ref, scratch.err_ref)
        else:
            status = _decide(handle.ptr, mptr, scratch.out_ref, scratch.err_ref)
        if status:
            raise _error(status, scratch.err)
        decision = _new(Decision)
        decision._ptr = scratch.out.value
        decision._engine = handle
        return decision

    def keep_decision_facts(self, keep: bool = True) -> None:
        """For programs that write the decision log themselves (with ``log_decisions`` unset):
        makes every later decision keep what its log line needs, so that
        ``Decision.log_line()`` has the time, id, message facts and latency. Call it before
        deciding."""
        handle = self._live()
        if _n.warden_engine_keep_decision_facts is None:
            raise NotImplementedError("this libwarden (%s) cannot keep decision facts" % library_path)
        status = _n.warden_engine_keep_decision_facts(handle.ptr, 1 if keep else 0)
        if status != _n.OK:
            raise _error(status)

    def rejection(self, error: "SecurityRejected", latency_us: int = 0) -> "Decision":
        """The deny Decision at stage "security" of a message ``receive`` rejected: ``error``
        is the SecurityRejected it raised; the decision's reason is the rejection's reason and
        its revision the one serving now. For writing the rejection's decision log line
        (``Decision.log_line()``)."""
        handle = self._live()
        if _n.warden_engine_rejection is None:
            raise NotImplementedError("this libwarden (%s) cannot make rejection decisions" % library_path)
        if not isinstance(error, SecurityRejected):
            raise TypeError("rejection takes the SecurityRejected that receive raised, not %s"
                            % type(error).__name__)
        err = _n.Error()
        err.code = _n.E_SECURITY
        # the C fields are fixed arrays: cut whole characters so the text stays UTF-8
        err.reason = _cut(error.reason, _n.Error.reason.size - 1)
        err.text = _cut(error.detail, _n.Error.text.size - 1)
        out = c_void_p()
        status = _n.warden_engine_rejection(handle.ptr, byref(err), int(latency_us), byref(out))
        if status != _n.OK:
            raise _error(status)
        decision = _new(Decision)
        decision._ptr = out.value
        decision._engine = handle
        return decision

    def status(self) -> Status:
        """The engine's status: policy revision, when it was loaded, reload counters, last
        error, and the replay cache's backend and size."""
        handle = self._live()
        st = _n.Status(size=ctypes.sizeof(_n.Status))
        status = _n.warden_engine_status(handle.ptr, byref(st))
        if status != _n.OK:
            raise _error(status)
        revision = st.revision.decode()
        last_error = st.last_error.decode("utf-8", "replace")
        return Status(revision=revision or None,
                      loaded_at=_time(st.loaded_at) if st.loaded_at else None,
                      reloads=int(st.reloads), reload_failures=int(st.reload_failures),
                      last_error=last_error or None,
                      last_error_at=_time(st.last_error_at) if st.last_error_at else None,
                      replay_backend=st.replay_backend.decode() or "none",
                      replay_entries=int(st.replay_entries),
                      failing_since=_time(st.failing_since) if st.failing_since else None,
                      stale=bool(st.stale))

    def reload(self) -> None:
        """Reloads the policy set and the trust material now. On failure the current revision
        keeps serving and PolicyError / WardenIOError / ConfigError is raised."""
        handle = self._live()
        if _n.warden_engine_reload is None:
            raise NotImplementedError("this libwarden (%s) has no warden_engine_reload" % library_path)
        err = _n.Error()
        status = _n.warden_engine_reload(handle.ptr, byref(err))
        if status != _n.OK:
            raise _error(status, err)

    def __repr__(self) -> str:
        return "<warden.Engine%s>" % (" closed" if self._handle is None else "")


class _Scratch:
    """Per-thread out and error variables of the decide fast path, made once per thread
    (saves ~0.15 us a decision over making them per call)."""

    __slots__ = ("out", "err", "out_ref", "err_ref")

    def __init__(self) -> None:
        self.out = c_void_p()
        self.err = _n.Error()
        self.out_ref = byref(self.out)
        self.err_ref = byref(self.err)


_thread = threading.local()
_decide = _n.warden_engine_decide
_new = object.__new__

# --- messages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timestamp:
    """The message's wsu:Timestamp (UTC datetimes); expires is None when it sets none."""
    created: _dt.datetime
    expires: Optional[_dt.datetime]


@dataclass(frozen=True)
class SubjectAltNames:
    dns: Tuple[str, ...] = ()
    email: Tuple[str, ...] = ()
    uri: Tuple[str, ...] = ()
    ip: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Certificate:
    """An X.509 certificate as Warden read it (the view ``m.cert`` of the policies). DNs are
    RFC 4514 strings, most specific first; ``subject`` maps each attribute's short name to its
    first value, ``subject_all`` to every value."""
    subject: Dict[str, str]
    subject_all: Dict[str, Tuple[str, ...]]
    issuer: Dict[str, str]
    issuer_all: Dict[str, Tuple[str, ...]]
    subject_dn: str
    issuer_dn: str
    serial: str                   #: lowercase hex of the serial's bytes ("01e5")
    sha256: str                   #: lowercase hex of the DER's SHA-256
    not_before: Optional[_dt.datetime]
    not_after: Optional[_dt.datetime]
    san: SubjectAltNames
    key_type: Optional[str]       #: "rsa", "ec", "ed25519", ...
    key_bits: Optional[int]
    der: bytes = field(repr=False)


def _attr_tables(attrs: List[Tuple[str, str]]) -> Tuple[Dict[str, str], Dict[str, Tuple[str, ...]]]:
    first: Dict[str, str] = {}
    every: Dict[str, List[str]] = {}
    for name, value in attrs:
        first.setdefault(name, value)
        every.setdefault(name, []).append(value)
    return first, {k: tuple(v) for k, v in every.items()}


class Token:
    """One verified security token of a message (owned by the message: reading it after the
    message is closed raises ValueError)."""

    __slots__ = ("_message", "_ptr", "index", "_cert")

    def __init__(self, message: "Message", ptr: int, index: int):
        self._message = message
        self._ptr = ptr
        self.index = index
        self._cert: Any = None

    def _get(self, pid: int, value: Any) -> bool:
        if self._message._ptr is None:
            raise ValueError("the message this token belongs to is closed")
        status = _n.warden_token_get_property(self._ptr, pid, byref(value), sizeof(value))
        if status == _n.OK:
            return True
        if status == _n.E_NOT_APPLICABLE:
            return False
        raise _error(status)

    def _str(self, pid: int) -> Optional[str]:
        s = _n.String()
        return _string(s) if self._get(pid, s) else None

    def _int64(self, pid: int) -> Optional[int]:
        v = ctypes.c_int64()
        return v.value if self._get(pid, v) else None

    def _int(self, pid: int) -> Optional[int]:
        v = ctypes.c_int()
        return v.value if self._get(pid, v) else None

    def _bytes(self, pid: int) -> Optional[bytes]:
        b = _n.Bytes()
        return ctypes.string_at(b.data, b.length) if self._get(pid, b) else None

    def _strings(self, pid: int) -> Tuple[str, ...]:
        lst = _n.StringList()
        if not self._get(pid, lst):
            return ()
        return tuple(_string(lst.items[i]) for i in range(lst.count))

    def _attrs(self, pid: int) -> List[Tuple[str, str]]:
        lst = _n.AttrList()
        if not self._get(pid, lst):
            return []
        return [(_text(lst.items[i].name), _text(lst.items[i].value)) for i in range(lst.count)]

    @property
    def kind(self) -> str:
        """"x509", "username", "saml" or "transport"."""
        return self._str(_n.TOKEN_PROPERTY_KIND) or ""

    @property
    def role(self) -> str:
        """"signing" (its key signed the Body), "supporting" or "transport"."""
        return self._str(_n.TOKEN_PROPERTY_ROLE) or ""

    @property
    def key_type(self) -> str:
        """"none", "symmetric" or "asymmetric"."""
        return {_n.KEY_TYPE_ASYMMETRIC: "asymmetric", _n.KEY_TYPE_SYMMETRIC: "symmetric"}.get(
            self._int(_n.TOKEN_PROPERTY_KEY_TYPE) or 0, "none")

    @property
    def valid_from(self) -> Optional[_dt.datetime]:
        t = self._int64(_n.TOKEN_PROPERTY_VALID_FROM_TIME)
        return _time(t) if t else None

    @property
    def valid_till(self) -> Optional[_dt.datetime]:
        t = self._int64(_n.TOKEN_PROPERTY_VALID_TILL_TIME)
        return _time(t) if t else None

    @property
    def username(self) -> Optional[str]:
        return self._str(_n.TOKEN_PROPERTY_USERNAME)

    @property
    def password_type(self) -> Optional[str]:
        """"text" or "digest" (UsernameTokens)."""
        return self._str(_n.TOKEN_PROPERTY_PASSWORD_TYPE)

    @property
    def saml(self) -> Optional[Dict[str, Any]]:
        """A SAML token's facts, as policies see them in m.saml: version, id, issuer, subject,
        name_id_format, confirmation, audiences (list), not_before, not_on_or_after (datetime or
        None), authn_context, attributes ({name: [values]}); None for other tokens."""
        version = self._str(_n.TOKEN_PROPERTY_SAML_VERSION)
        if version is None:
            return None
        attributes: Dict[str, List[str]] = {}
        lst = _n.AttrList()
        if self._get(_n.TOKEN_PROPERTY_SAML_ATTRIBUTES, lst):
            for i in range(lst.count):
                values = attributes.setdefault(_text(lst.items[i].name), [])
                if lst.items[i].value is not None:
                    values.append(_text(lst.items[i].value))
        not_before = self._int64(_n.TOKEN_PROPERTY_SAML_NOT_BEFORE)
        not_on_or_after = self._int64(_n.TOKEN_PROPERTY_SAML_NOT_ON_OR_AFTER)
        return {
            "version": version,
            "id": self._str(_n.TOKEN_PROPERTY_SAML_ID),
            "issuer": self._str(_n.TOKEN_PROPERTY_SAML_ISSUER),
            "subject": self._str(_n.TOKEN_PROPERTY_SAML_SUBJECT),
            "name_id_format": self._str(_n.TOKEN_PROPERTY_SAML_NAME_ID_FORMAT),
            "confirmation": self._str(_n.TOKEN_PROPERTY_SAML_CONFIRMATION),
            "audiences": list(self._strings(_n.TOKEN_PROPERTY_SAML_AUDIENCES)),
            "not_before": _time(not_before) if not_before is not None else None,
            "not_on_or_after": _time(not_on_or_after) if not_on_or_after is not None else None,
            "authn_context": self._str(_n.TOKEN_PROPERTY_SAML_AUTHN_CONTEXT),
            "attributes": attributes,
        }

    @property
    def serialized_xml(self) -> Optional[str]:
        return self._str(_n.TOKEN_PROPERTY_SERIALIZED_XML)

    @property
    def attached_reference_xml(self) -> Optional[str]:
        return self._str(_n.TOKEN_PROPERTY_ATTACHED_REFERENCE_XML)

    @property
    def unattached_reference_xml(self) -> Optional[str]:
        return self._str(_n.TOKEN_PROPERTY_UNATTACHED_REFERENCE_XML)

    @property
    def symmetric_key(self) -> Optional[bytes]:
        return self._bytes(_n.TOKEN_PROPERTY_SYMMETRIC_KEY)

    @property
    def cert(self) -> Optional[Certificate]:
        """The token's certificate (X.509 tokens), or None."""
        if self._cert is None:
            der = self._bytes(_n.TOKEN_PROPERTY_CERT_DER)
            if der is None:
                return None
            subject, subject_all = _attr_tables(self._attrs(_n.TOKEN_PROPERTY_CERT_SUBJECT_ATTRS))
            issuer, issuer_all = _attr_tables(self._attrs(_n.TOKEN_PROPERTY_CERT_ISSUER_ATTRS))
            self._cert = Certificate(
                subject=subject, subject_all=subject_all, issuer=issuer, issuer_all=issuer_all,
                subject_dn=self._str(_n.TOKEN_PROPERTY_CERT_SUBJECT) or "",
                issuer_dn=self._str(_n.TOKEN_PROPERTY_CERT_ISSUER) or "",
                serial=self._str(_n.TOKEN_PROPERTY_CERT_SERIAL) or "",
                sha256=self._str(_n.TOKEN_PROPERTY_CERT_SHA256) or "",
                not_before=self.valid_from, not_after=self.valid_till,
                san=SubjectAltNames(dns=self._strings(_n.TOKEN_PROPERTY_CERT_SAN_DNS),
                                    email=self._strings(_n.TOKEN_PROPERTY_CERT_SAN_EMAIL),
                                    uri=self._strings(_n.TOKEN_PROPERTY_CERT_SAN_URI),
                                    ip=self._strings(_n.TOKEN_PROPERTY_CERT_SAN_IP)),
                key_type=self._str(_n.TOKEN_PROPERTY_CERT_KEY_TYPE),
                key_bits=self._int(_n.TOKEN_PROPERTY_CERT_KEY_BITS),
                der=der)
        return self._cert

    def to_dict(self) -> Dict[str, Any]:
        """The token as in ``warden verify --json``."""
        out: Dict[str, Any] = {"kind": self.kind, "role": self.role, "key_type": self.key_type}
        if self.valid_from is not None:
            out["valid_from"] = _iso(self.valid_from)
        if self.valid_till is not None:
            out["valid_till"] = _iso(self.valid_till)
        if out["kind"] == "x509":
            cert = self.cert
            x509: Dict[str, Any] = {}
            if cert is not None:
                x509["subject"] = cert.subject_dn
                if "CN" in cert.subject:
                    x509["subject_cn"] = cert.subject["CN"]
                x509["issuer"] = cert.issuer_dn
                x509["serial"] = cert.serial
                x509["sha256"] = cert.sha256
                key: Dict[str, Any] = {}
                if cert.key_type is not None:
                    key["type"] = cert.key_type
                if cert.key_bits is not None:
                    key["bits"] = cert.key_bits
                x509["key"] = key
                san = {k: list(v) for k, v in (("dns", cert.san.dns), ("email", cert.san.email),
                                               ("uri", cert.san.uri), ("ip", cert.san.ip)) if v}
                if san:
                    x509["san"] = san
            out["x509"] = x509
        elif out["kind"] == "username":
            user: Dict[str, Any] = {}
            if self.username is not None:
                user["name"] = self.username
            if self.password_type is not None:
                user["password_type"] = self.password_type
            out["username"] = user
        elif out["kind"] == "saml":
            facts = self.saml or {}
            saml = {k: v for k, v in facts.items() if v is not None}
            for k in ("not_before", "not_on_or_after"):
                if k in saml:
                    saml[k] = _iso(saml[k])
            out["saml"] = saml
        return out

    def __repr__(self) -> str:
        if self._message._ptr is None:
            return "<warden.Token (message closed)>"
        return "<warden.Token %s %s>" % (self.kind, self.role)


class Message:
    """A delivered message: the results of security processing, as Python values. Made by
    Engine.receive; ``close()`` (or a ``with`` block) frees it."""

    __slots__ = ("_ptr", "_engine", "_cache", "__weakref__")

    def __new__(cls, *args: Any, **kwargs: Any) -> "Message":
        raise TypeError("messages are made by Engine.receive")

    def close(self) -> None:
        """Frees the message (its tokens become unreadable). Decisions made from it stay valid."""
        ptr, self._ptr = self._ptr, None
        self._engine = None
        if ptr:
            _n.warden_message_free(ptr)

    def __del__(self) -> None:
        try:
            ptr = self._ptr
            if ptr:
                self._ptr = None
                _n.warden_message_free(ptr)
        except Exception:  # a half-made object, or interpreter shutdown
            pass

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def __enter__(self) -> "Message":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- property access

    def _get(self, pid: int, value: Any) -> bool:
        ptr = self._ptr
        if ptr is None:
            raise ValueError("the message is closed")
        status = _n.warden_message_get_property(ptr, pid, byref(value), sizeof(value))
        if status == _n.OK:
            return True
        if status == _n.E_NOT_APPLICABLE:
            return False
        raise _error(status)

    def _str(self, pid: int) -> Optional[str]:
        s = _n.String()
        return _string(s) if self._get(pid, s) else None

    def _int64(self, pid: int) -> Optional[int]:
        v = ctypes.c_int64()
        return v.value if self._get(pid, v) else None

    @property
    def username(self) -> Optional[str]:
        """The UsernameToken's user, or None."""
        return self._str(_n.MESSAGE_PROPERTY_USERNAME)

    @property
    def saml_assertion(self) -> Optional[str]:
        """The verified SAML assertion, serialized (WARDEN_MESSAGE_PROPERTY_SAML_ASSERTION)."""
        return self._str(_n.MESSAGE_PROPERTY_SAML_ASSERTION)

    @property
    def action(self) -> Optional[str]:
        """WS-Addressing Action."""
        return self._str(_n.MESSAGE_PROPERTY_ACTION)

    @property
    def to(self) -> Optional[str]:
        """WS-Addressing To."""
        return self._str(_n.MESSAGE_PROPERTY_TO)

    @property
    def message_id(self) -> Optional[str]:
        """WS-Addressing MessageID."""
        return self._str(_n.MESSAGE_PROPERTY_MESSAGE_ID)

    @property
    def operation(self) -> Optional[str]:
        """"{ns}Name" of the Body's first child."""
        return self._str(_n.MESSAGE_PROPERTY_OPERATION)

    @property
    def soap(self) -> Optional[str]:
        """"1.1" or "1.2"."""
        return self._str(_n.MESSAGE_PROPERTY_SOAP_VERSION)

    @property
    def protection(self) -> str:
        """"none", "sign" (or later "sign_and_encrypt")."""
        v = ctypes.c_int()
        level = v.value if self._get(_n.MESSAGE_PROPERTY_PROTECTION_LEVEL, v) else _n.PROTECTION_NONE
        return {_n.PROTECTION_SIGN: "sign",
                _n.PROTECTION_SIGN_AND_ENCRYPT: "sign_and_encrypt"}.get(level, "none")

    @property
    def timestamp(self) -> Optional[Timestamp]:
        """The wsu:Timestamp's Created and Expires, or None when the message has none."""
        created = self._int64(_n.MESSAGE_PROPERTY_TIMESTAMP_CREATED)
        if created is None:
            return None
        expires = self._int64(_n.MESSAGE_PROPERTY_TIMESTAMP_EXPIRES)
        return Timestamp(_time(created), _time(expires) if expires is not None else None)

    @property
    def now(self) -> Optional[_dt.datetime]:
        """The evaluation time the message was verified at."""
        t = self._int64(_n.MESSAGE_PROPERTY_NOW)
        return _time(t) if t is not None else None

    @property
    def signed_parts(self) -> Tuple[str, ...]:
        """The parts a verified signature covers, in Warden's order ("Body", "Timestamp", ...)."""
        lst = _n.StringList()
        if not self._get(_n.MESSAGE_PROPERTY_SIGNED_PART_LIST, lst):
            return ()
        return tuple(_string(lst.items[i]) for i in range(lst.count))

    @property
    def signed(self) -> FrozenSet[str]:
        """The names of the signed parts: ``"Body" in message.signed``."""
        return frozenset(self.signed_parts)

    @property
    def encrypted_parts(self) -> Tuple[str, ...]:
        """The parts that arrived encrypted, named as signed parts ("Body", "Timestamp", ...)."""
        lst = _n.StringList()
        if not self._get(_n.MESSAGE_PROPERTY_ENCRYPTED_PART_LIST, lst):
            return ()
        return tuple(_string(lst.items[i]) for i in range(lst.count))

    @property
    def encrypted(self) -> FrozenSet[str]:
        """The names of the parts that arrived encrypted: ``"Body" in message.encrypted``."""
        return frozenset(self.encrypted_parts)

    @property
    def attrs(self) -> Dict[str, str]:
        """The attrs given to receive (the policies' m.attrs)."""
        lst = _n.AttrList()
        if not self._get(_n.MESSAGE_PROPERTY_ATTRS, lst):
            return {}
        return {_text(lst.items[i].name): _text(lst.items[i].value) for i in range(lst.count)}

    @property
    def http_action(self) -> Optional[str]:
        """The HTTP SOAPAction given to receive (policies' m.http_action), or None."""
        return self._str(_n.MESSAGE_PROPERTY_HTTP_ACTION)

    @property
    def http_method(self) -> Optional[str]:
        """The HTTP method given to receive (policies' m.http_method), or None."""
        return self._str(_n.MESSAGE_PROPERTY_HTTP_METHOD)

    @property
    def http_path(self) -> Optional[str]:
        """The HTTP path given to receive (policies' m.http_path), or None."""
        return self._str(_n.MESSAGE_PROPERTY_HTTP_PATH)

    @property
    def transport(self) -> Optional[Token]:
        """The transport token (the TLS peer certificate given to receive), or None."""
        for token in self.tokens:
            if token.role == "transport":
                return token
        return None

    @property
    def transport_cert(self) -> Optional[Certificate]:
        """The TLS peer certificate given to receive (policies' m.transport.cert), or None."""
        token = self.transport
        return token.cert if token is not None else None

    @property
    def encoded_cert(self) -> Optional[bytes]:
        """DER of the signing certificate, or None."""
        b = _n.Bytes()
        return ctypes.string_at(b.data, b.length) if self._get(_n.MESSAGE_PROPERTY_ENCODED_CERT, b) else None

    @property
    def tokens(self) -> Tuple[Token, ...]:
        """The verified security tokens, in Security header order."""
        ptr = self._ptr
        if ptr is None:
            raise ValueError("the message is closed")
        # not cached: a token refers to its message, and a cache would make a cycle that
        # only the garbage collector frees
        return tuple(Token(self, _n.warden_message_token(ptr, i), i)
                     for i in range(_n.warden_message_token_count(ptr)))

    @property
    def cert(self) -> Optional[Certificate]:
        """The certificate of the signature that covers the Body (policies' m.cert), or None."""
        if "cert" not in self._cache:
            cert = None
            for token in self.tokens:
                if token.role == "signing" and token.kind == "x509":
                    cert = token.cert
                    break
            self._cache["cert"] = cert
        return self._cache["cert"]

    def body(self, path: str) -> Optional[str]:
        """The text of an element inside the verified Body (policies' m:body): a local name
        ("amount"), a '/'-separated path from the Body's children ("CreateOrder/amount"); any
        step may be "{ns}local". None when there is no such element or it holds elements."""
        ptr = self._ptr
        if ptr is None:
            raise ValueError("the message is closed")
        raw_path = _encode(path)
        capacity = 256
        while True:
            buffer = ctypes.create_string_buffer(capacity)
            length = c_size_t()
            status = _n.warden_message_body_text(ptr, raw_path, buffer, capacity, byref(length))
            if status == _n.E_NOT_APPLICABLE:
                return None
            if status != _n.OK:
                raise _error(status)
            if length.value < capacity:
                return buffer.raw[:length.value].decode("utf-8", "surrogateescape")
            capacity = length.value + 1

    def to_dict(self) -> Dict[str, Any]:
        """The message as ``warden verify --json`` prints it (fields that do not apply are
        absent; times are ISO-8601 UTC strings)."""
        out: Dict[str, Any] = {"delivered": True}
        for key, value in (("soap", self.soap), ("action", self.action), ("to", self.to),
                           ("message_id", self.message_id), ("operation", self.operation)):
            if value is not None:
                out[key] = value
        out["protection"] = self.protection
        if self.username is not None:
            out["username"] = self.username
        ts = self.timestamp
        if ts is not None:
            out["timestamp"] = {"created": _iso(ts.created)}
            if ts.expires is not None:
                out["timestamp"]["expires"] = _iso(ts.expires)
        out["signed"] = list(self.signed_parts)
        out["encrypted"] = list(self.encrypted_parts)
        out["tokens"] = [t.to_dict() for t in self.tokens]
        return out

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<warden.Message closed>"
        return "<warden.Message %s>" % (self.action or self.operation or "?")


# --- decisions -----------------------------------------------------------------------------------


class Decision:
    """A policy decision. Its fields are read from libwarden when accessed (``allowed`` is one
    call). ``bool(decision)`` is ``decision.allowed``. ``close()`` (or a ``with`` block) frees
    it; it does not depend on the message it was made from."""

    __slots__ = ("_ptr", "_engine", "__weakref__")

    def __new__(cls, *args: Any, **kwargs: Any) -> "Decision":
        raise TypeError("decisions are made by Engine.decide")

    @property
    def allowed(self) -> bool:
        """True for allow, False for deny."""
        ptr = self._ptr
        if ptr is None:
            raise ValueError("the decision is closed")
        return _allowed(ptr) == 1

    def __bool__(self) -> bool:
        return self.allowed

    def _live(self) -> int:
        ptr = self._ptr
        if ptr is None:
            raise ValueError("the decision is closed")
        return ptr

    @property
    def stage(self) -> str:
        """"policy" (or "security")."""
        return _text(_n.warden_decision_stage(self._live()))

    @property
    def reason(self) -> str:
        """"permitted", "forbidden", "no-permit", "policy-error", "policy-limit" or
        "policy-stale"; for a rejection (``Engine.rejection``), its reason code."""
        return _text(_n.warden_decision_reason(self._live()))

    @property
    def revision(self) -> str:
        """The policy revision that decided: "sha256:..."."""
        return _text(_n.warden_decision_revision(self._live()))

    @property
    def rules(self) -> Tuple[str, ...]:
        """Every forbid rule that applied or, when none did, every permit rule that applied."""
        ptr = self._live()
        return tuple(_text(_n.warden_decision_rule(ptr, i))
                     for i in range(_n.warden_decision_rule_count(ptr)))

    @property
    def errors(self) -> Tuple[str, ...]:
        """Errors of rules, as "RULE NAME: message"."""
        ptr = self._live()
        return tuple(_text(_n.warden_decision_error(ptr, i))
                     for i in range(_n.warden_decision_error_count(ptr)))

    @property
    def explanation(self) -> Optional[List[Dict[str, Any]]]:
        """Why the decision came out as it did, for a decision made with ``explain=True``
        (None otherwise): one dict per rule of the set, forbids first, each with ``rule``,
        ``effect``, ``file``, ``line``, ``targets`` (bool), ``applied`` (bool) and, when the
        targets matched, ``when`` ("returned", "raised", "absent", "not run"), ``value`` or
        ``error``, ``instructions`` and ``log`` (the rule's log() lines). The same objects as
        ``warden decide --explain --json`` prints under "explain"."""
        ptr = self._live()
        if _n.warden_decision_explanation is None:
            return None
        text = _n.warden_decision_explanation(ptr)
        return None if text is None else json.loads(text.decode("utf-8", "replace"))

    def log_line(self, remote: Optional[str] = None) -> str:
        """The decision's log.decisions line: one JSON object, without a newline
        (docs/operations.md lists the fields), with "remote" when ``remote`` is given. The
        time, id, message facts and latency are there when the engine keeps decision facts
        (``Engine.keep_decision_facts()``) from before the decision was made."""
        ptr = self._live()
        if _n.warden_decision_log_line is None:
            raise NotImplementedError("this libwarden (%s) cannot write decision log lines" % library_path)
        line = _n.warden_decision_log_line(ptr, _encode(remote) if remote is not None else None)
        if not line:
            raise OutOfMemory()
        try:
            return ctypes.string_at(line).decode("utf-8", "replace")
        finally:
            _n.libc_free(line)

    def to_dict(self) -> Dict[str, Any]:
        """The decision as ``warden decide --json`` prints it (with "explain" when explained)."""
        out = {"decision": "allow" if self.allowed else "deny", "stage": self.stage,
               "reason": self.reason, "rules": list(self.rules), "errors": list(self.errors),
               "revision": self.revision}
        explanation = self.explanation
        if explanation is not None:
            out["explain"] = explanation
        return out

    def close(self) -> None:
        ptr, self._ptr = self._ptr, None
        self._engine = None
        if ptr:
            _free_decision(ptr)

    def __del__(self) -> None:
        try:
            ptr = self._ptr
            if ptr:
                self._ptr = None
                _free_decision(ptr)
        except Exception:  # a half-made object, or interpreter shutdown
            pass

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def __enter__(self) -> "Decision":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<warden.Decision closed>"
        return "<warden.Decision %s %s>" % ("allow" if self.allowed else "deny", self.reason)


_allowed = _n.warden_decision_allowed
_free_decision = _n.warden_decision_free

# --- policy tooling ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One report of warden_policy_check / warden_policy_test. ``file`` is relative to the
    policy directory (None for the directory itself), ``line`` 0 when unknown."""
    file: Optional[str]
    line: int
    ok: bool
    text: str

    def __str__(self) -> str:
        if self.file is None:
            return self.text
        if self.line > 0:
            return "%s:%d: %s" % (self.file, self.line, self.text)
        return "%s: %s" % (self.file, self.text)


@dataclass(frozen=True)
class CheckReport:
    """What ``check`` found; ``ok`` when no problem (findings whose text starts with
    ``"warning: "`` are not problems)."""
    findings: Tuple[Finding, ...]
    problems: int

    @property
    def ok(self) -> bool:
        return self.problems == 0


@dataclass(frozen=True)
class TestReport:
    """The policy tests that ran: one result per test, and the counts."""
    __test__ = False  # not a pytest test class
    results: Tuple[Finding, ...]
    passed: int
    failed: int

    @property
    def ok(self) -> bool:
        return self.failed == 0

    @property
    def failures(self) -> Tuple[Finding, ...]:
        return tuple(r for r in self.results if not r.ok)


def _collector() -> Tuple[List[Finding], Any]:
    found: List[Finding] = []

    def report(ctx: Any, file: Optional[bytes], line: int, ok: int, text: Optional[bytes]) -> None:
        try:
            found.append(Finding(_text(file) if file is not None else None, int(line), bool(ok),
                                 _text(text)))
        except BaseException:
            pass
    return found, _n.ReportFn(report)


def check(policy_dir: PathLike, config: Optional[PathLike] = None, **options: Any) -> CheckReport:
    """Compiles and lints a policy directory (``warden check``). Returns the findings; raises
    WardenIOError when the directory cannot be read. ``config`` and ``options`` as for Engine."""
    found, report = _collector()
    problems = c_size_t()
    with _Config(config, options) as cfg:
        err = _n.Error()
        status = _n.warden_policy_check(cfg.ptr, _encode(os.fspath(policy_dir)), report, None,
                                        byref(problems), byref(err))
    if status != _n.OK:
        raise _error(status, err)
    return CheckReport(tuple(found), int(problems.value))


def test(policy_dir: PathLike, config: Optional[PathLike] = None, **options: Any) -> TestReport:
    """Runs the policy tests (``*_test.lua``) of a directory (``warden test``); envelope tests
    are verified with the config's trust, users and clock settings. Returns one result per test;
    raises PolicyError when the set does not compile."""
    found, report = _collector()
    passed, failed = c_size_t(), c_size_t()
    with _Config(config, options) as cfg:
        err = _n.Error()
        status = _n.warden_policy_test(cfg.ptr, _encode(os.fspath(policy_dir)), report, None,
                                       byref(passed), byref(failed), byref(err))
    if status != _n.OK:
        raise _error(status, err)
    return TestReport(tuple(found), int(passed.value), int(failed.value))


test.__test__ = False  # type: ignore[attr-defined]  # `from warden import test` is no pytest test
