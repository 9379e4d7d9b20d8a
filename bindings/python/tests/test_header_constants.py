"""The binding's constants and structures against include/warden.h, parsed at test time: every
status code, property id, protection level, key type and log level of the header has its
twin in warden._native with the same value (and the binding has no constant the header lost),
the structures have the header's fields in the header's order with the same array sizes, and,
when a C compiler is at hand, the same size and field offsets as the compiler gives them."""
import ctypes
import os
import re
import shutil
import subprocess

import pytest

from warden import _native

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("WARDEN_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", "..", ".."))
HEADER = os.path.join(SOURCE, "include", "warden.h")

# header prefix -> the binding's name for the same constant (prefix stripped: WARDEN_E_IO -> E_IO)
GROUPS = ("OK", "E_", "MESSAGE_PROPERTY_", "TOKEN_PROPERTY_", "PROTECTION_", "KEY_TYPE_", "LOG_")

# the binding's ctypes structures and the header's typedefs they mirror
STRUCTURES = {
    "Error": "warden_error",
    "String": "warden_string",
    "Bytes": "warden_bytes",
    "Attr": "warden_attr",
    "StringList": "warden_string_list",
    "AttrList": "warden_attr_list",
    "ReceiveOptions": "warden_receive_options",
    "Status": "warden_status",
}


@pytest.fixture(scope="module")
def header():
    if not os.path.isfile(HEADER):
        pytest.fail("include/warden.h not found (set WARDEN_SOURCE_DIR to the checkout)", pytrace=False)
    with open(HEADER, encoding="utf-8") as f:
        text = f.read()
    # comments out, so that a value in a comment is never taken for a definition
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S), text


def header_constants(code):
    constants = {}
    for name, value in re.findall(r"^\s*#define\s+WARDEN_(\w+)\s+(\d+)\s*$", code, flags=re.M):
        constants[name] = int(value)
    for name, value in re.findall(r"\bWARDEN_((?:MESSAGE|TOKEN)_PROPERTY_\w+)\s*=\s*(\d+)", code):
        constants[name] = int(value)
    return {name: value for name, value in constants.items() if name.startswith(GROUPS)}


def binding_constants():
    return {name: value for name, value in vars(_native).items()
            if name.isupper() and isinstance(value, int) and name.startswith(GROUPS)}


def header_structs(code):
    """typedef struct NAME { fields } NAME; -> [(field, array length or None), ...]"""
    structs = {}
    for name, body in re.findall(r"typedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*\1\s*;", code, flags=re.S):
        fields = []
        for declaration in body.split(";"):
            declaration = declaration.strip()
            if not declaration:
                continue
            # "void (*coverage_fn)(void *ctx, const char *json)": a function pointer
            pointer = re.match(r"^[^(]*\(\s*\*\s*(\w+)\s*\)\s*\(.*\)$", declaration, flags=re.S)
            if pointer:
                fields.append((pointer.group(1), None))
                continue
            # "uint64_t reloads, reload_failures" / "char reason[48]" / "const warden_attr *attrs"
            words = re.match(r"^(.*?)(\**\s*\w+(?:\s*\[\s*\d+\s*\])?(?:\s*,\s*\**\s*\w+(?:\s*\[\s*\d+\s*\])?)*)$",
                             declaration, flags=re.S)
            assert words, "cannot read the field declaration %r of %s" % (declaration, name)
            for declarator in words.group(2).split(","):
                m = re.match(r"^\**\s*(\w+)(?:\s*\[\s*(\d+)\s*\])?$", declarator.strip())
                fields.append((m.group(1), int(m.group(2)) if m.group(2) else None))
        structs[name] = fields
    return structs


def test_every_constant_of_the_header_is_in_the_binding_with_its_value(header):
    code, _ = header
    expected = header_constants(code)
    assert len(expected) > 50, "the header parser found too few constants: %s" % sorted(expected)
    actual = binding_constants()
    missing = sorted(set(expected) - set(actual))
    assert not missing, "warden.h constants the binding lacks: %s" % missing
    wrong = {name: (actual[name], expected[name]) for name in expected if actual[name] != expected[name]}
    assert not wrong, "binding value, header value: %s" % wrong


def test_the_binding_has_no_constant_the_header_lacks(header):
    code, _ = header
    extra = sorted(set(binding_constants()) - set(header_constants(code)))
    assert not extra, "binding constants not in warden.h: %s" % extra


def test_password_capacity_is_the_one_the_header_documents(header):
    _, text = header
    documented = re.search(r"longer than capacity \((\d+)\)", text)
    assert documented, "warden.h no longer states the password capacity"
    assert _native.PASSWORD_CAPACITY == int(documented.group(1))


def test_the_version_is_the_headers(header):
    code, _ = header
    version = re.search(r'#define\s+WARDEN_VERSION_STRING\s+"([^"]+)"', code).group(1)
    import warden
    assert warden.__version__ == version


def test_structures_have_the_headers_fields_in_order(header):
    code, _ = header
    structs = header_structs(code)
    for python_name, c_name in STRUCTURES.items():
        assert c_name in structs, "warden.h has no typedef struct %s" % c_name
        ours = getattr(_native, python_name)
        fields = []
        for field in ours._fields_:
            name, kind = field[0], field[1]
            length = kind._length_ if issubclass(kind, ctypes.Array) else None
            fields.append((name, length))
        assert fields == structs[c_name], "%s differs from %s" % (python_name, c_name)


def test_structures_have_the_compilers_sizes_and_offsets(header, tmp_path):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to ask for sizes and offsets")
    code, _ = header
    structs = header_structs(code)
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "warden.h"', "int main(void) {"]
    for c_name in STRUCTURES.values():
        lines.append('printf("%s %%zu\\n", sizeof(%s));' % (c_name, c_name))
        for field, _ in structs[c_name]:
            lines.append('printf("%s.%s %%zu\\n", offsetof(%s, %s));' % (c_name, field, c_name, field))
    lines += ["return 0;", "}"]
    program = tmp_path / "layout.c"
    program.write_text("\n".join(lines) + "\n")
    binary = tmp_path / "layout"
    subprocess.run([compiler, "-std=c11", "-I", os.path.dirname(HEADER), str(program), "-o", str(binary)],
                   check=True, capture_output=True)
    layout = dict(line.rsplit(" ", 1) for line in subprocess.run([str(binary)], check=True, capture_output=True,
                                                                  text=True).stdout.splitlines())
    for python_name, c_name in STRUCTURES.items():
        ours = getattr(_native, python_name)
        assert ctypes.sizeof(ours) == int(layout[c_name]), "sizeof %s" % c_name
        for field, _ in structs[c_name]:
            assert getattr(ours, field).offset == int(layout["%s.%s" % (c_name, field)]), "%s.%s" % (c_name, field)
