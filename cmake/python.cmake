# The Python binding's tests (bindings/python/tests): pytest under the system Python against
# the libwarden.so of this build, with messages made at test time by python3-zeep.
#
# In a -DWARDEN_SANITIZE=ON build, libwarden.so links the AddressSanitizer runtime, which must
# be the first library of the process: the Python process gets it through LD_PRELOAD (the
# path gcc reports for libasan.so), and runs with detect_leaks=0, because the interpreter
# itself leaves memory allocated at exit. Leaks of the binding's handles are caught instead
# by the test that counts allocated bytes over 10,000 receive/decide cycles.

find_program(WARDEN_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)

if(WARDEN_PYTHON3 AND EXISTS ${CMAKE_SOURCE_DIR}/bindings/python/tests/conftest.py)
  set(WARDEN_PYTHON_TEST_ENV
    "WARDEN_LIBRARY=$<TARGET_FILE:warden>"
    "WARDEN_TEST_PKI=${WARDEN_TEST_PKI}"
    "WARDEN_SOURCE_DIR=${CMAKE_SOURCE_DIR}"
    "WARDEN_BIN=$<TARGET_FILE:warden_cli>"
    "PYTHONPATH=${CMAKE_SOURCE_DIR}/bindings/python"
    "PYTHONDONTWRITEBYTECODE=1")

  if(WARDEN_SANITIZE)
    execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
                    OUTPUT_VARIABLE WARDEN_ASAN_RUNTIME
                    OUTPUT_STRIP_TRAILING_WHITESPACE
                    ERROR_QUIET)
    if(NOT IS_ABSOLUTE "${WARDEN_ASAN_RUNTIME}" OR NOT EXISTS "${WARDEN_ASAN_RUNTIME}")
      message(WARNING "python tests: the compiler does not name its libasan.so "
                      "(got '${WARDEN_ASAN_RUNTIME}'); the Python process cannot load this "
                      "sanitizer build of libwarden.so")
    endif()
    list(APPEND WARDEN_PYTHON_TEST_ENV
      "LD_PRELOAD=${WARDEN_ASAN_RUNTIME}"
      "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1")
  endif()

  add_test(NAME python
           COMMAND ${WARDEN_PYTHON3} -m pytest -q -p no:cacheprovider
                   ${CMAKE_SOURCE_DIR}/bindings/python/tests
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(python PROPERTIES
    FIXTURES_REQUIRED pki
    ENVIRONMENT "${WARDEN_PYTHON_TEST_ENV}"
    TIMEOUT 900)
endif()
