/*
** receive.c — fuzzes warden_engine_receive on raw bytes: the safe parse, the envelope, the ID
** table and all WS-Security processing (timestamps, username tokens, X.509 tokens, XML
** signatures, chain validation, XML Encryption, replay detection), with a real config over the test PKI and a
** fixed evaluation time. A delivered message goes through every property getter; a rejection
** must carry a reason code.
*/
#include <stdint.h>
#include <stdlib.h>

#include "fixture.h"

static warden_engine *engine;

static void free_engine(void)
{
    warden_engine_free(engine);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    /* a bounded replay cache, as a service would run it */
    static const char *const settings[] = { "replay.entries", "4096", "decrypt.allow_cbc", "true",
                                            "decrypt.allow_rsa15", "true", NULL };
    engine = fz_engine_new(settings);
    atexit(free_engine);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    warden_receive_options options = { .size = sizeof options, .now = fz_now() };
    warden_message *message = NULL;
    warden_error err = { 0 };

    int status = warden_engine_receive(engine, data, size, &options, &message, &err);
    if (status == WARDEN_OK) {
        if (message == NULL)
            fz_fail("receive: WARDEN_OK without a message");
        fz_exercise_message(message);
    } else {
        if (message != NULL)
            fz_fail("receive: a message returned with status %d", status);
        if (status == WARDEN_E_SECURITY && err.reason[0] == '\0')
            fz_fail("receive: a rejection without a reason code (%s)", err.text);
        if (status != WARDEN_E_SECURITY && status != WARDEN_E_NOMEM)
            fz_fail("receive: status %d (%s: %s)", status, err.reason, err.text);
    }
    warden_message_free(message);
    return 0;
}
