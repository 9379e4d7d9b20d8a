/*
** bench/decrypt.c — encrypted messages, two measurements in one run (bench/decrypt.sh makes
** the messages with WSS4J and calls this):
**
** 1. Decrypt + verify of a signed-and-encrypted message (WSS4J, sign-then-encrypt, RSA-OAEP,
**    AES-128-GCM): Warden (warden_engine_receive: the whole security processing, chain
**    validation and the Timestamp included) beside libxmlsec1 in-process doing the least the
**    same message needs: parse, register IDs, decrypt the EncryptedKey with the preset RSA key,
**    decrypt the Body's EncryptedData with the key it gave, verify the signature with the
**    signer's key preset (no certificate work at all); the floor (one RSA-OAEP decryption and
**    one RSA verification, what no receiver can skip); and, with --wss4j, Apache WSS4J 1.6 in a
**    warmed-up JVM (bench/wss4j/Wss4jVerify.java --decrypt), a child process driven over a
**    pipe. Rounds alternate; the report gives the median over rounds of each round's p50.
** 2. How long each kind of decryption failure takes Warden, side by side (the padding-oracle
**    defence: a failure must not tell by its time which step failed): CBC with a wrong padding
**    byte, CBC with right padding and a garbage plaintext, a GCM ciphertext that does not
**    authenticate, an EncryptedKey that does not unwrap; beside a message that decrypts.
**
** usage: bench_decrypt [--wss4j CLASSPATH SERVER_P12] SECONDS ROUNDS NOW CA_PEM SERVER_KEY SERVER_CERT
**                      SIGNER_CERT GOOD_MESSAGE [LABEL=FAILING_MESSAGE...]
**   SERVER_P12: the service's key pair as PKCS#12, alias "server", password "secret".
**   NOW: Unix seconds to verify at (the messages' Timestamps are fresh at that time).
*/
#include <libxml/parser.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <warden.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlenc.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include "bench_child.h"
#include "bench_clock.h"

#define MAX_MESSAGES 16

typedef struct message {
    const char    *label;
    const char    *path;
    unsigned char *bytes;
    size_t         length;
} message;

typedef struct bench {
    warden_engine *engine;
    int64_t        now;
    xmlSecKeyPtr   server_key;  /* our RSA private key, for the EncryptedKey */
    xmlSecKeyPtr   signer_key;  /* the signer's public key, preset */
    /* the floor: one RSA-OAEP decryption with our key and one RSA-SHA256 verification with the
    ** signer's, each with a fresh context as every message needs: what no receiver can skip */
    EVP_PKEY      *private_key, *signer_public;
    unsigned char  wrapped[512], signature[512], data[64];
    size_t         wrapped_length, signature_length;
} bench;

static unsigned char *read_file(const char *path, size_t *length)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    long size;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        (data = malloc((size_t)size + 1)) == NULL || fread(data, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "cannot read %s\n", path);
        free(data);
        data = NULL;
    } else {
        *length = (size_t)size;
    }
    if (f != NULL)
        fclose(f);
    return data;
}

/* Returns 0 when delivered, 1 when rejected (reason copied), -1 never. */
static int warden_once(bench *b, const message *m, char *reason, size_t capacity)
{
    warden_message *delivered = NULL;
    warden_error err;
    warden_receive_options options = { .size = sizeof options, .now = b->now };
    int status = warden_engine_receive(b->engine, m->bytes, m->length, &options, &delivered, &err);
    if (reason != NULL)
        snprintf(reason, capacity, "%s", status == WARDEN_OK ? "delivered" : err.reason);
    warden_message_free(delivered);
    return status == WARDEN_OK ? 0 : 1;
}

static int xmlsec_once(bench *b, const message *m, char *reason, size_t capacity)
{
    static const xmlChar *id_attributes[] = { BAD_CAST "Id", NULL };
    int result = 1;
    xmlSecEncCtxPtr key_context = NULL, data_context = NULL;
    xmlSecDSigCtxPtr dsig = NULL;
    xmlDocPtr doc = xmlReadMemory((const char *)m->bytes, (int)m->length, NULL, NULL, XML_PARSE_NONET);
    xmlNodePtr root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;

    if (root == NULL)
        goto done;
    xmlSecAddIDs(doc, root, id_attributes);
    xmlNodePtr encrypted_key = xmlSecFindNode(root, xmlSecNodeEncryptedKey, xmlSecEncNs);
    xmlNodePtr body = xmlSecFindNode(root, BAD_CAST "Body", BAD_CAST "http://schemas.xmlsoap.org/soap/envelope/");
    xmlNodePtr encrypted_data = body != NULL ? xmlSecFindNode(body, xmlSecNodeEncryptedData, xmlSecEncNs) : NULL;
    if (encrypted_key == NULL || encrypted_data == NULL)
        goto done;
    key_context = xmlSecEncCtxCreate(NULL);
    key_context->mode = xmlEncCtxModeEncryptedKey;
    key_context->encKey = xmlSecKeyDuplicate(b->server_key);
    xmlSecBufferPtr session = xmlSecEncCtxDecryptToBuffer(key_context, encrypted_key);
    if (session == NULL)
        goto done;
    data_context = xmlSecEncCtxCreate(NULL);
    data_context->encKey = xmlSecKeyReadMemory(xmlSecKeyDataAesId, xmlSecBufferGetData(session),
                                               xmlSecBufferGetSize(session));
    if (data_context->encKey == NULL || xmlSecEncCtxDecrypt(data_context, encrypted_data) < 0 ||
        data_context->result == NULL)
        goto done;
    xmlNodePtr signature = xmlSecFindNode(root, xmlSecNodeSignature, xmlSecDSigNs);
    if (signature == NULL)
        goto done;
    dsig = xmlSecDSigCtxCreate(NULL);
    dsig->signKey = xmlSecKeyDuplicate(b->signer_key);
    if (xmlSecDSigCtxVerify(dsig, signature) < 0 || dsig->status != xmlSecDSigStatusSucceeded)
        goto done;
    result = 0;
done:
    if (reason != NULL)
        snprintf(reason, capacity, "%s", result == 0 ? "delivered" : "failed");
    if (dsig != NULL)
        xmlSecDSigCtxDestroy(dsig);
    if (data_context != NULL)
        xmlSecEncCtxDestroy(data_context);
    if (key_context != NULL)
        xmlSecEncCtxDestroy(key_context);
    xmlFreeDoc(doc);
    return result;
}

static int floor_once(bench *b, const message *m, char *reason, size_t capacity)
{
    unsigned char key[512];
    size_t length = sizeof key;
    EVP_PKEY_CTX *context = EVP_PKEY_CTX_new_from_pkey(NULL, b->private_key, NULL);
    EVP_MD_CTX *verify = EVP_MD_CTX_new();
    int ok = context != NULL && EVP_PKEY_decrypt_init(context) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_OAEP_PADDING) == 1 &&
             EVP_PKEY_decrypt(context, key, &length, b->wrapped, b->wrapped_length) == 1 &&
             EVP_DigestVerifyInit(verify, NULL, EVP_sha256(), NULL, b->signer_public) == 1 &&
             EVP_DigestVerify(verify, b->signature, b->signature_length, b->data, sizeof b->data) == 1;
    (void)m;
    if (reason != NULL)
        snprintf(reason, capacity, "%s", ok ? "ok" : "failed");
    EVP_PKEY_CTX_free(context);
    EVP_MD_CTX_free(verify);
    return ok ? 0 : 1;
}

static EVP_PKEY *read_key(const char *path, bool certificate)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *key = NULL;
    if (f == NULL)
        return NULL;
    if (certificate) {
        X509 *x509 = PEM_read_X509(f, NULL, NULL, NULL);
        key = x509 != NULL ? X509_get_pubkey(x509) : NULL;
        X509_free(x509);
    } else {
        key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    }
    fclose(f);
    return key;
}

/* Prepares the floor's inputs: a 16-byte key wrapped for us, a signature by a key of the
** signer's size over 64 bytes (made with our key: only its size matters to the cost). */
static int setup_floor(bench *b, const char *server_key, const char *server_cert)
{
    b->private_key = read_key(server_key, false);
    EVP_PKEY *public_key = read_key(server_cert, true);
    b->signer_public = public_key;
    EVP_PKEY_CTX *context = public_key != NULL ? EVP_PKEY_CTX_new_from_pkey(NULL, public_key, NULL) : NULL;
    EVP_MD_CTX *sign = EVP_MD_CTX_new();
    unsigned char key[16] = { 1, 2, 3 };
    b->wrapped_length = sizeof b->wrapped;
    b->signature_length = sizeof b->signature;
    int ok = b->private_key != NULL && context != NULL && EVP_PKEY_encrypt_init(context) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_OAEP_PADDING) == 1 &&
             EVP_PKEY_encrypt(context, b->wrapped, &b->wrapped_length, key, sizeof key) == 1 &&
             EVP_DigestSignInit(sign, NULL, EVP_sha256(), NULL, b->private_key) == 1 &&
             EVP_DigestSign(sign, b->signature, &b->signature_length, b->data, sizeof b->data) == 1;
    EVP_PKEY_CTX_free(context);
    EVP_MD_CTX_free(sign);
    return ok ? 0 : -1;
}

/* ---- WSS4J, in its own JVM ---------------------------------------------------------- */

typedef struct jvm {
    pid_t pid;
    FILE *to, *from;
} jvm;

static int start_java(jvm *j, const char *classpath, const char *p12, const char *ca, const char *message_path)
{
    char *argv[] = { "java", "-cp", (char *)classpath, "Wss4jVerify", "--decrypt", (char *)p12, "secret",
                     (char *)ca, (char *)message_path, NULL };
    return bench_spawn_piped(argv, &j->pid, &j->to, &j->from);
}

/* "warm" (no figure) or "measure": the p50 in µs, or -1. */
static double ask_java(jvm *j, const char *command, double seconds)
{
    char reply[256];
    double rate, p50, p99;
    fprintf(j->to, "%s 0 %.3f\n", command, seconds);
    fflush(j->to);
    if (fgets(reply, sizeof reply, j->from) == NULL)
        return -1;
    if (strncmp(reply, "ok", 2) == 0)
        return 0;
    if (sscanf(reply, "%lf %lf %lf", &rate, &p50, &p99) != 3) {
        fprintf(stderr, "WSS4J harness: %s", reply);
        return -1;
    }
    return p50;
}

static void stop_java(jvm *j)
{
    if (j->to != NULL)
        fclose(j->to);
    if (j->from != NULL)
        fclose(j->from);
    if (j->pid > 0)
        waitpid(j->pid, NULL, 0);
}

typedef int (*once_fn)(bench *, const message *, char *, size_t);

/* p50 latency (µs) of about `seconds` of runs; *outcome gets the first run's outcome. */
static double p50_of(bench *b, once_fn once, const message *m, double seconds, char *outcome, size_t capacity)
{
    size_t cap = 1 << 20, count = 0;
    double *latencies = malloc(cap * sizeof *latencies);
    double start = bench_now_seconds(), end = start + seconds, t = start;
    if (latencies == NULL)
        return -1;
    once(b, m, outcome, capacity);
    do {
        double before = bench_now_seconds();
        once(b, m, NULL, 0);
        t = bench_now_seconds();
        latencies[count++] = (t - before) * 1e6;
    } while (t < end && count < cap);
    qsort(latencies, count, sizeof *latencies, bench_compare_doubles);
    double p50 = latencies[count / 2];
    free(latencies);
    return p50;
}

static double median(double *values, int n)
{
    qsort(values, (size_t)n, sizeof *values, bench_compare_doubles);
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/* The engine's log would print a line per failed decryption (the cause): not measured here. */
static void quiet(void *context, int level, const char *text)
{
    (void)context;
    (void)level;
    (void)text;
}

static int setup(bench *b, char **argv)
{
    warden_config *config = NULL;
    warden_error err;
    warden_config_new(&config);
    if (warden_config_set(config, "trust", argv[4], &err) != WARDEN_OK ||
        warden_config_set(config, "decrypt.key", argv[5], &err) != WARDEN_OK ||
        warden_config_set(config, "decrypt.cert", argv[6], &err) != WARDEN_OK ||
        warden_config_set(config, "decrypt.allow_cbc", "true", &err) != WARDEN_OK ||
        warden_config_set(config, "replay.backend", "none", &err) != WARDEN_OK ||
        warden_config_set_logger(config, quiet, NULL) != WARDEN_OK ||
        warden_engine_new(config, &b->engine, &err) != WARDEN_OK) {
        fprintf(stderr, "engine: %s\n", err.text);
        warden_config_free(config);
        return -1;
    }
    warden_config_free(config);
    if (xmlSecInit() < 0 || xmlSecCryptoAppInit(NULL) < 0 || xmlSecCryptoInit() < 0) {
        fprintf(stderr, "xmlsec initialisation failed\n");
        return -1;
    }
    b->server_key = xmlSecCryptoAppKeyLoad(argv[5], xmlSecKeyDataFormatPem, NULL, NULL, NULL);
    b->signer_key = xmlSecCryptoAppKeyLoad(argv[7], xmlSecKeyDataFormatCertPem, NULL, NULL, NULL);
    if (b->server_key == NULL || b->signer_key == NULL) {
        fprintf(stderr, "xmlsec cannot load the keys\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench b = { 0 };
    message messages[MAX_MESSAGES];
    int count = 0;
    jvm java = { 0 };
    const char *classpath = NULL, *p12 = NULL;

    if (argc > 3 && strcmp(argv[1], "--wss4j") == 0) {
        classpath = argv[2];
        p12 = argv[3];
        argv += 3;
        argc -= 3;
    }
    if (argc < 9) {
        fprintf(stderr, "usage: %s SECONDS ROUNDS NOW CA_PEM SERVER_KEY SERVER_CERT SIGNER_CERT GOOD_MESSAGE "
                        "[LABEL=FAILING_MESSAGE...]\n", argv[0]);
        return 2;
    }
    double seconds = atof(argv[1]);
    int rounds = atoi(argv[2]);
    b.now = strtoll(argv[3], NULL, 10);
    for (int i = 8; i < argc && count < MAX_MESSAGES; i++) {
        char *eq = i > 8 ? strchr(argv[i], '=') : NULL;
        messages[count].label = i == 8 ? "decrypts" : eq != NULL ? (*eq = '\0', argv[i]) : argv[i];
        messages[count].path = eq != NULL ? eq + 1 : argv[i];
        messages[count].bytes = read_file(messages[count].path, &messages[count].length);
        if (messages[count].bytes == NULL)
            return 2;
        count++;
    }
    if (setup(&b, argv) != 0 || setup_floor(&b, argv[5], argv[6]) != 0)
        return 2;
    char outcome[64];
    const message *good = &messages[0];
    if (warden_once(&b, good, outcome, sizeof outcome) != 0 || xmlsec_once(&b, good, NULL, 0) != 0) {
        fprintf(stderr, "the good message does not decrypt and verify (warden: %s)\n", outcome);
        return 1;
    }
    if (classpath != NULL && (start_java(&java, classpath, p12, argv[4], good->path) != 0 ||
                              ask_java(&java, "warm", 10.0) < 0)) {
        fprintf(stderr, "the WSS4J harness does not decrypt and verify the message\n");
        return 1;
    }
    double warden_p50[64], xmlsec_p50[64], floor_p50[64], wss4j_p50[64], failure_p50[MAX_MESSAGES][64];
    char outcomes[MAX_MESSAGES][64];
    if (rounds > 64)
        rounds = 64;
    for (int r = 0; r < rounds; r++) {
        warden_p50[r] = p50_of(&b, warden_once, good, seconds, outcome, sizeof outcome);
        xmlsec_p50[r] = p50_of(&b, xmlsec_once, good, seconds, outcome, sizeof outcome);
        floor_p50[r] = p50_of(&b, floor_once, good, seconds / 2, outcome, sizeof outcome);
        if (classpath != NULL)
            wss4j_p50[r] = ask_java(&java, "measure", seconds);
        for (int i = 0; i < count; i++)
            failure_p50[i][r] = p50_of(&b, warden_once, &messages[i], seconds / 2, outcomes[i], sizeof outcomes[i]);
    }
    double w = median(warden_p50, rounds), x = median(xmlsec_p50, rounds), f = median(floor_p50, rounds);
    printf("decrypt + verify, %zu-byte signed-and-encrypted message (WSS4J: sign-then-encrypt, RSA-OAEP, "
           "AES-128-GCM), median of %d rounds' p50:\n", good->length, rounds);
    printf("  warden   %9.1f us\n  xmlsec1  %9.1f us\n  floor    %9.1f us  (one RSA-OAEP decryption + one RSA "
           "verification)\n  xmlsec1/warden = %.2fx; above the floor: warden %.1f us, xmlsec1 %.1f us (%.2fx)\n\n",
           w, x, f, x / w, w - f, x - f, (x - f) / (w - f));
    if (classpath != NULL) {
        double j = median(wss4j_p50, rounds);
        printf("  WSS4J    %9.1f us  (a warmed-up JVM)\n  WSS4J/warden = %.2fx\n\n", j, j / w);
        stop_java(&java);
    }
    printf("Warden on each kind of message, median of %d rounds' p50 (failures should take alike):\n", rounds);
    double reference = median(failure_p50[0], rounds);
    for (int i = 0; i < count; i++) {
        double p = median(failure_p50[i], rounds);
        printf("  %-28s %-16s %9.1f us  (%.2fx the message that decrypts)\n", messages[i].label, outcomes[i], p,
               p / reference);
    }
    warden_engine_free(b.engine);
    xmlSecKeyDestroy(b.server_key);
    xmlSecKeyDestroy(b.signer_key);
    EVP_PKEY_free(b.private_key);
    EVP_PKEY_free(b.signer_public);
    xmlSecCryptoShutdown();
    xmlSecCryptoAppShutdown();
    xmlSecShutdown();
    for (int i = 0; i < count; i++)
        free(messages[i].bytes);
    return 0;
}
