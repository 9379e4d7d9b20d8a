/*
** test_messages.c — building the test messages of test_messages.h. The PasswordDigest is
** computed here independently of core/username_token.c: Base64(SHA-1(nonce ‖ created ‖
** password)), as WS-Security's UsernameToken profile defines it.
*/
#include "test_messages.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *tm_pki_path(const char *name)
{
    const char *folder = getenv("WARDEN_TEST_PKI");
    if (folder == NULL)
        folder = "test-pki";
    size_t length = strlen(folder) + strlen(name) + 2;
    char *path = malloc(length);
    if (path != NULL)
        snprintf(path, length, "%s/%s", folder, name);
    return path;
}

static void base64(const unsigned char *data, size_t length, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, data, (int)length);
}

static const char body[] =
    "<soap:Body><ord:CreateOrder xmlns:ord=\"urn:example:orders\">"
    "<ord:customer>ACME-1042</ord:customer><ord:amount>250</ord:amount>"
    "</ord:CreateOrder></soap:Body>";

static const char addressing[] =
    "<wsa:Action>urn:example:orders/Create</wsa:Action>"
    "<wsa:To>https://orders.example.com/soap</wsa:To>"
    "<wsa:MessageID>urn:uuid:0b7f8a52-1c2d-4e3f-8a9b-0c1d2e3f4a5b</wsa:MessageID>";

char *tm_plain_message(void)
{
    const char *format =
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "
        "xmlns:wsa=\"http://www.w3.org/2005/08/addressing\"><soap:Header>%s</soap:Header>%s</soap:Envelope>";
    size_t length = strlen(format) + sizeof addressing + sizeof body;
    char *text = malloc(length);
    if (text != NULL)
        snprintf(text, length, format, addressing, body);
    return text;
}

char *tm_username_message(const tm_username_options *o)
{
    const char *username = o->username ? o->username : "alice";
    const char *password = o->password ? o->password : "secret";
    const char *nonce_label = o->nonce ? o->nonce : "nonce-1";
    const char *created = o->created ? o->created : "2026-11-25T12:00:00Z";
    const char *soap_ns = o->soap12 ? "http://www.w3.org/2003/05/soap-envelope"
                                    : "http://schemas.xmlsoap.org/soap/envelope/";

    unsigned char nonce[32];
    unsigned int nonce_length = 0;
    EVP_Digest(nonce_label, strlen(nonce_label), nonce, &nonce_length, EVP_sha256(), NULL);
    nonce_length = 16;
    char nonce_text[64];
    base64(nonce, nonce_length, nonce_text);

    char password_element[512];
    if (o->digest) {
        unsigned char digest[20];
        unsigned int digest_length = 0;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
        EVP_DigestUpdate(ctx, nonce, nonce_length);
        EVP_DigestUpdate(ctx, created, strlen(created));
        EVP_DigestUpdate(ctx, password, strlen(password));
        EVP_DigestFinal_ex(ctx, digest, &digest_length);
        EVP_MD_CTX_free(ctx);
        char digest_text[64];
        base64(digest, digest_length, digest_text);
        snprintf(password_element, sizeof password_element,
                 "<wsse:Password Type=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest\">%s</wsse:Password>",
                 digest_text);
    } else {
        snprintf(password_element, sizeof password_element,
                 "<wsse:Password Type=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText\">%s</wsse:Password>",
                 password);
    }

    char timestamp[512] = "";
    if (o->timestamp_created != NULL) {
        char expires[128] = "";
        if (o->timestamp_expires != NULL)
            snprintf(expires, sizeof expires, "<wsu:Expires>%s</wsu:Expires>", o->timestamp_expires);
        snprintf(timestamp, sizeof timestamp, "<wsu:Timestamp wsu:Id=\"TS-1\"><wsu:Created>%s</wsu:Created>%s</wsu:Timestamp>",
                 o->timestamp_created, expires);
    }
    char created_element[128] = "";
    if (created[0] != '\0')
        snprintf(created_element, sizeof created_element, "<wsu:Created>%s</wsu:Created>", created);
    char token_id[128] = "";
    if (o->token_id != NULL)
        snprintf(token_id, sizeof token_id, " wsu:Id=\"%s\"", o->token_id);

    const char *format =
        "<soap:Envelope xmlns:soap=\"%s\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\" "
        "xmlns:wsse=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\" "
        "xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\">"
        "<soap:Header>%s%s<wsse:Security soap:mustUnderstand=\"%s\">%s"
        "<wsse:UsernameToken%s><wsse:Username>%s</wsse:Username>%s"
        "<wsse:Nonce EncodingType=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary\">%s</wsse:Nonce>"
        "%s</wsse:UsernameToken></wsse:Security></soap:Header>%s</soap:Envelope>";
    size_t length = strlen(format) + strlen(soap_ns) + sizeof addressing + strlen(o->extra_header ? o->extra_header : "")
                    + strlen(timestamp) + strlen(token_id) + strlen(username) + strlen(password_element)
                    + strlen(nonce_text) + strlen(created_element) + sizeof body + 16;
    char *text = malloc(length);
    if (text != NULL)
        snprintf(text, length, format, soap_ns, addressing, o->extra_header ? o->extra_header : "",
                 o->soap12 ? "true" : "1", timestamp, token_id, username, password_element, nonce_text,
                 created_element, body);
    return text;
}
