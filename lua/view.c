/*
** view.c — the read-only message view `m` a policy sees (docs/reference.md, Message view): lazy
** objects over a delivered message, its tokens and their certificates, read through the public
** property API of warden.h only; read-only proxies over the small tables it hands out; and the
** same shape over a synthetic message table for policy tests.
**
** Every table a policy can reach is a proxy: an empty table whose private metatable holds
** the state (__metatable = false, so nothing in the sandbox can reach it) and whose
** __newindex raises "the message view is read-only". Because the proxy itself stays empty,
** no assignment and no `next` ever touches the values behind it.
**
**  - Lazy objects (the view, a token view) compute a field on first read with one C function
**    per field kind and keep it in a field cache: their metatable's __index is that cache
**    table, so a second read costs no C call; a miss reaches lazy_miss through the cache's
**    own metatable. Absent fields are not cached (a cache hit must read as the value).
**  - Frozen proxies wrap a plain table whose nested tables are frozen first (the facts of a
**    field): their __index is that table, so reads are plain look-ups, and #, pairs and
**    ipairs work. Synthetic messages (policy tests) wrap nested tables as they are read.
**  - Certificates and signed-part sets are frozen once per state and shared by its decisions
**    (they never change); the view object and m.timestamp are one per state, pointed at each
**    decision's message.
**
** A token view holds a raw pointer to its token, which the engine frees after the decision.
** A policy could keep one in an upvalue, so it records the state's view generation, and each
** push of a new message view bumps it: a token view read later raises an error instead of
** reading freed memory. The view object itself always points at the current message.
** Synthetic views hold no pointers and never expire.
**
** pairs works on every table of the view (on lazy objects it lists the fields that are not
** nil, computing them); `next` and rawlen see empty tables.
**
** Views are strict (section "schemas" below): a name a table does not know raises with the
** nearest known one, a known name the message lacks is nil. m:body returns exactly one value.
*/
#include "view.h"

#include <lauxlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- private keys and object kinds -------------------------------------------------- */

enum {
    KEY_KIND,       /* metatable: the object's kind (integer) */
    KEY_OBJECT,     /* metatable: light userdata, the message or token (lazy objects) */
    KEY_GENERATION, /* metatable: the view generation the object belongs to (lazy objects) */
    KEY_BACKING,    /* metatable: the table a frozen proxy or a synthetic view reads */
    KEY_CACHE,      /* metatable: the field cache (lazy), or raw nested table -> proxy (synthetic) */
    KEY_SCHEMA,     /* metatable: light userdata, the schema of a synthetic view's table */
    KEY_NOW,        /* metatable: the default `now` of a synthetic view */
    KEY_CURRENT,    /* registry: the state's current view generation */
    KEY_SHARED,     /* registry: sha256 / signed-parts text -> a frozen view made once per state */
    KEY_MISS,       /* registry: the metatable shared by lazy objects' field caches */
    KEY_VIEW,       /* registry: the state's message view object, refreshed per decision */
    KEY_TIMESTAMP,  /* registry: the state's m.timestamp proxy, refreshed per decision */
    KEY_LAST_CERT,  /* registry: the certificate view made or found last (fast path) */
    KEY_LAST_SIGNED_TEXT, /* registry: the signed-parts text of ... */
    KEY_LAST_SIGNED,      /* registry: ... the signed-parts view made or found last */
    KEY_COUNT
};

/* ---- schemas: the names each table of the view knows -------------------------------- */

/* Strict views. Reading a name a table of the view does not know raises "no field `usename`
** on m; did you mean `username`?", so a typo fails the decision with a pointer instead of
** reading nil; a known field the message lacks (m.username on a certificate-only message)
** is nil. A schema lists a table's names and what each name holds. Only string keys are
** checked (lists are read by number). How a miss reaches the check costs nothing on hits:
**  - lazy objects: lazy_miss already runs for every name not yet cached;
**  - frozen tables of a real message: the backing table gets a metatable whose __index is
**    strict_miss (one per schema per state), so a present field is still a plain look-up;
**  - synthetic views (policy tests): frozen_index checks the proxy's schema (KEY_SCHEMA),
**    and nested tables get the schema of the name they were read under. The test's own
**    table is never given a metatable: the test file may still read it. */
typedef struct wd_view_schema schema;

typedef struct schema_field {
    const char   *name;
    const schema *child; /* the schema of the table under that name, or NULL */
} schema_field;

struct wd_view_schema {
    const char         *where;      /* the table as errors name it */
    const schema_field *fields;     /* NULL-terminated; NULL: any name (nil when absent) */
    const schema       *items;      /* a list: the schema of each element */
    bool                attributes; /* names of DN attributes: dotted OIDs are names too */
};

/* The DN attribute names OpenSSL gives (its short names); an attribute without one reads
** under its dotted OID. A name outside this list that the certificate does not carry is
** an error; case matters (`subject.ou` is a typo of `OU`). */
static const schema_field dn_fields[] = {
    { "CN", NULL }, { "C", NULL }, { "L", NULL }, { "ST", NULL }, { "O", NULL }, { "OU", NULL },
    { "street", NULL }, { "DC", NULL }, { "UID", NULL }, { "emailAddress", NULL }, { "serialNumber", NULL },
    { "title", NULL }, { "SN", NULL }, { "GN", NULL }, { "initials", NULL }, { "pseudonym", NULL },
    { "generationQualifier", NULL }, { "dnQualifier", NULL }, { "name", NULL }, { "description", NULL },
    { "postalCode", NULL }, { "postalAddress", NULL }, { "postOfficeBox", NULL }, { "businessCategory", NULL },
    { "organizationIdentifier", NULL }, { "x500UniqueIdentifier", NULL }, { "jurisdictionC", NULL },
    { "jurisdictionST", NULL }, { "jurisdictionL", NULL }, { "telephoneNumber", NULL }, { "role", NULL },
    { "unstructuredName", NULL }, { "unstructuredAddress", NULL }, { "uniqueIdentifier", NULL },
    { NULL, NULL },
};

static const schema subject_schema = { "m.cert.subject", dn_fields, NULL, true };
static const schema issuer_schema = { "m.cert.issuer", dn_fields, NULL, true };
static const schema subject_all_schema = { "m.cert.subject_all", dn_fields, NULL, true };
static const schema issuer_all_schema = { "m.cert.issuer_all", dn_fields, NULL, true };

static const schema_field san_fields[] = {
    { "dns", NULL }, { "email", NULL }, { "uri", NULL }, { "ip", NULL }, { NULL, NULL },
};
static const schema san_schema = { "m.cert.san", san_fields, NULL, false };

static const schema_field key_fields[] = { { "type", NULL }, { "bits", NULL }, { NULL, NULL } };
static const schema key_schema = { "m.cert.key", key_fields, NULL, false };

static const schema_field cert_schema_fields[] = {
    { "subject", &subject_schema }, { "issuer", &issuer_schema }, { "subject_all", &subject_all_schema },
    { "issuer_all", &issuer_all_schema }, { "subject_dn", NULL }, { "issuer_dn", NULL }, { "serial", NULL },
    { "sha256", NULL }, { "not_before", NULL }, { "not_after", NULL }, { "san", &san_schema },
    { "key", &key_schema }, { NULL, NULL },
};
static const schema cert_schema = { "m.cert", cert_schema_fields, NULL, false };

static const schema_field timestamp_fields[] = { { "created", NULL }, { "expires", NULL }, { NULL, NULL } };
static const schema timestamp_schema = { "m.timestamp", timestamp_fields, NULL, false };

/* m.signed: the standard part names; any other part is "{ns}local" (not checked). */
static const schema_field signed_fields[] = {
    { "Body", NULL }, { "Timestamp", NULL }, { "UsernameToken", NULL }, { "BinarySecurityToken", NULL },
    { "Assertion", NULL }, { "Action", NULL }, { "To", NULL }, { "MessageID", NULL }, { "ReplyTo", NULL },
    { "FaultTo", NULL }, { "From", NULL }, { "RelatesTo", NULL }, { NULL, NULL },
};
static const schema signed_schema = { "m.signed", signed_fields, NULL, false };
/* m.encrypted: the same names, for the parts that arrived encrypted. */
static const schema encrypted_schema = { "m.encrypted", signed_fields, NULL, false };

static const schema_field username_fields[] = { { "name", NULL }, { "password_type", NULL }, { NULL, NULL } };
static const schema username_schema = { "a token's username", username_fields, NULL, false };

/* m.saml and a saml token's `saml`: the assertion's facts (docs/reference.md, SAML). Attribute
** names are the issuer's to choose, so m.saml.attributes knows every name (nil when absent). */
static const schema saml_attributes_schema = { "m.saml.attributes", NULL, NULL, false };
static const schema_field saml_fields[] = {
    { "version", NULL }, { "id", NULL }, { "issuer", NULL }, { "subject", NULL }, { "name_id_format", NULL },
    { "confirmation", NULL }, { "audiences", NULL }, { "not_before", NULL }, { "not_on_or_after", NULL },
    { "authn_context", NULL }, { "attributes", &saml_attributes_schema }, { NULL, NULL },
};
static const schema saml_schema = { "m.saml", saml_fields, NULL, false };

/* transport is the TLS peer's certificate that `warden serve` attaches. */
static const schema_field token_schema_fields[] = {
    { "kind", NULL }, { "role", NULL }, { "key_type", NULL }, { "valid_from", NULL }, { "valid_till", NULL },
    { "x509", &cert_schema }, { "username", &username_schema }, { "saml", &saml_schema }, { "transport", &cert_schema },
    { NULL, NULL },
};
static const schema token_schema = { "a token", token_schema_fields, NULL, false };
static const schema tokens_schema = { "m.tokens", NULL, &token_schema, false };

static const schema_field transport_fields[] = { { "cert", &cert_schema }, { NULL, NULL } };
static const schema transport_schema = { "m.transport", transport_fields, NULL, false };

static const schema_field view_schema_fields[] = {
    { "action", NULL }, { "to", NULL }, { "message_id", NULL }, { "soap", NULL }, { "operation", NULL },
    { "protection", NULL }, { "username", NULL }, { "timestamp", &timestamp_schema }, { "now", NULL },
    { "signed", &signed_schema }, { "encrypted", &encrypted_schema }, { "cert", &cert_schema },
    { "tokens", &tokens_schema }, { "attrs", NULL },
    { "body", NULL }, { "saml", &saml_schema }, { "transport", &transport_schema }, { "http_action", NULL },
    { "http_method", NULL }, { "http_path", NULL },
    { NULL, NULL },
};
static const schema view_schema = { "m", view_schema_fields, NULL, false };

static bool is_dotted_oid(const char *name)
{
    if (*name < '0' || *name > '9')
        return false;
    for (; *name != '\0'; name++)
        if ((*name < '0' || *name > '9') && *name != '.')
            return false;
    return true;
}

static const schema_field *schema_find(const schema *s, const char *name)
{
    for (const schema_field *f = s->fields; f != NULL && f->name != NULL; f++)
        if (f->name[0] == name[0] && strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

static bool schema_knows(const schema *s, const char *name)
{
    if (s == NULL || s->fields == NULL)
        return true;
    if (s->attributes && is_dotted_oid(name))
        return true;
    if (s->attributes && name[0] == '{')
        return true;
    if ((s == &signed_schema || s == &encrypted_schema) && name[0] == '{')
        return true;
    return schema_find(s, name) != NULL;
}

/* The schema of the value read under the key at index of a table with schema s. */
static const schema *schema_child(lua_State *L, const schema *s, int key)
{
    if (s == NULL)
        return NULL;
    if (lua_type(L, key) == LUA_TNUMBER)
        return s->items;
    if (lua_type(L, key) != LUA_TSTRING)
        return NULL;
    const schema_field *f = schema_find(s, lua_tostring(L, key));
    return f != NULL ? f->child : NULL;
}

#define NAME_MAX_COMPARED 64

static char lower_ascii(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Levenshtein distance of a and b (each cut at NAME_MAX_COMPARED), letters compared with or
** without case. */
static size_t edit_distance(const char *a, const char *b, bool fold)
{
    size_t row[NAME_MAX_COMPARED + 1];
    size_t la = strlen(a), lb = strlen(b);
    la = la > NAME_MAX_COMPARED ? NAME_MAX_COMPARED : la;
    lb = lb > NAME_MAX_COMPARED ? NAME_MAX_COMPARED : lb;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            bool same = fold ? lower_ascii(a[i - 1]) == lower_ascii(b[j - 1]) : a[i - 1] == b[j - 1];
            size_t best = diagonal + (same ? 0 : 1);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diagonal = row[j];
            row[j] = best;
        }
    }
    return row[lb];
}

/* The known name nearest to name: fewest edits ignoring case, then fewest counting it (so
** `ou` finds `OU`, `usename` finds `username`). */
static const char *nearest_name(const schema *s, const char *name)
{
    const char *best = NULL;
    size_t best_score = (size_t)-1;
    for (const schema_field *f = s->fields; f != NULL && f->name != NULL; f++) {
        size_t score = edit_distance(name, f->name, true) * 4 + edit_distance(name, f->name, false);
        if (score < best_score) {
            best_score = score;
            best = f->name;
        }
    }
    return best;
}

/* Writes "no field `name` on m; did you mean `username`?" into message. */
static void unknown_name_message(const schema *s, const char *name, char *message, size_t capacity)
{
    const char *nearest = nearest_name(s, name);
    snprintf(message, capacity, "no %s `%s` %s %s%s%s%s", s->attributes ? "attribute" : "field", name,
             s->attributes ? "in" : "on", s->where, nearest != NULL ? "; did you mean `" : "",
             nearest != NULL ? nearest : "", nearest != NULL ? "`?" : "");
}

/* Raises "FILE:LINE: no field `name` on m; did you mean `username`?" for a read from the
** policy's code (level 1: the Lua function whose read reached this metamethod). */
static int unknown_name_error(lua_State *L, const schema *s, const char *name)
{
    char message[WD_VIEW_MESSAGE_MAX];
    unknown_name_message(s, name, message, sizeof message);
    luaL_where(L, 1);
    lua_pushstring(L, message);
    lua_concat(L, 2);
    return lua_error(L);
}

/* A read of the key at index that found nothing in a table with schema s: nil when the
** name is known (or not a name), an error when not. */
static int schema_miss(lua_State *L, const schema *s, int key)
{
    if (lua_type(L, key) == LUA_TSTRING && !schema_knows(s, lua_tostring(L, key)))
        return unknown_name_error(L, s, lua_tostring(L, key));
    lua_pushnil(L);
    return 1;
}

/* __index of a real frozen table's backing table: (backing, key), the schema an upvalue. */
static int strict_miss(lua_State *L)
{
    return schema_miss(L, lua_touserdata(L, lua_upvalueindex(1)), 2);
}

/* Gives the plain table on top the metatable of schema s (one per schema and state), so
** that reading a name s does not know raises. No-op for a NULL or open schema. */
static void make_strict(lua_State *L, const schema *s)
{
    if (s == NULL || s->fields == NULL)
        return;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, s) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, 0, 2);
        lua_pushlightuserdata(L, (void *)s);
        lua_pushcclosure(L, strict_miss, 1);
        lua_setfield(L, -2, "__index");
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, s);
    }
    lua_setmetatable(L, -2);
}

/* Only the addresses are used, as light-userdata keys that no Lua code can make. */
static const char private_keys[KEY_COUNT];
#define KEY(k) ((const void *)&private_keys[(k)])

typedef enum object_kind {
    OBJ_VIEW = 1,  /* lazy: a delivered message */
    OBJ_TOKEN,     /* lazy: one of its tokens */
    OBJ_FROZEN,    /* proxy over a plain table */
    OBJ_SYNTHETIC  /* proxy over a policy test's message table */
} object_kind;

#define READ_ONLY_MESSAGE "the message view is read-only"
#define BODY_BUFFER 256

static int lazy_pairs(lua_State *L);
static int frozen_index(lua_State *L);
static int frozen_len(lua_State *L);
static int frozen_pairs(lua_State *L);
static int view_body(lua_State *L);

static int read_only_error(lua_State *L)
{
    return luaL_error(L, READ_ONLY_MESSAGE);
}

static lua_Integer current_generation(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, KEY(KEY_CURRENT));
    lua_Integer generation = lua_tointeger(L, -1);
    lua_pop(L, 1);
    return generation;
}

/* Pushes an empty proxy table and, above it, its new metatable (not yet attached). */
static void push_proxy(lua_State *L, object_kind kind, lua_CFunction index, lua_CFunction pairs)
{
    lua_createtable(L, 0, 0);
    lua_createtable(L, 0, 8);
    lua_pushcfunction(L, index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, read_only_error);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pushinteger(L, kind);
    lua_rawsetp(L, -2, KEY(KEY_KIND));
}

static int lazy_miss(lua_State *L);

/* Pushes the metatable every lazy object's field cache shares: a miss computes the field. */
static void push_miss_metatable(lua_State *L)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, KEY(KEY_MISS)) == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, lazy_miss);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, KEY(KEY_MISS));
}

/* Pushes a lazy object over object (a message or a token) of the current generation. Its
** metatable's __index is its field cache, so a field read the second time costs no C call;
** a miss goes to lazy_miss through the cache's own (shared) metatable. The cache holds
** only values copied into Lua (never pointers), so a cached read is safe even after the
** object's message is gone; every computation checks the generation first. */
/* Makes a field cache for object and points the lazy object's metatable (at mt) at it. */
static void attach_cache(lua_State *L, int mt, object_kind kind, const void *object, lua_Integer generation)
{
    lua_pushlightuserdata(L, (void *)object);
    lua_rawsetp(L, mt, KEY(KEY_OBJECT));
    lua_pushinteger(L, generation);
    lua_rawsetp(L, mt, KEY(KEY_GENERATION));
    lua_createtable(L, 0, kind == OBJ_VIEW ? 16 : 8);
    push_miss_metatable(L);
    lua_setmetatable(L, -2);
    lua_pushinteger(L, kind);
    lua_rawsetp(L, -2, KEY(KEY_KIND));
    lua_pushlightuserdata(L, (void *)object);
    lua_rawsetp(L, -2, KEY(KEY_OBJECT));
    lua_pushinteger(L, generation);
    lua_rawsetp(L, -2, KEY(KEY_GENERATION));
    if (kind == OBJ_VIEW) {
        lua_pushcfunction(L, view_body); /* m:body is read by most policies: no miss for it */
        lua_setfield(L, -2, "body");
    }
    lua_pushvalue(L, -1);
    lua_rawsetp(L, mt, KEY(KEY_CACHE));  /* metatable -> cache (pairs) */
    lua_setfield(L, mt, "__index");
}

static void push_lazy(lua_State *L, object_kind kind, const void *object)
{
    push_proxy(L, kind, lazy_miss, lazy_pairs); /* __index replaced by the cache */
    attach_cache(L, lua_gettop(L), kind, object, current_generation(L));
    lua_setmetatable(L, -2);
}

/* Pushes a frozen proxy over the table at index, whose nested tables must already be
** frozen (nested_frozen): reads then go straight to the backing table (its __index is that
** table), with no C call, and writes still hit __newindex on the empty proxy; the backing
** table is made strict for schema s. Otherwise (synthetic tables from policy tests) reads
** go through frozen_index, which wraps nested tables on the way out and checks names
** against s, kept in the proxy's metatable. */
static void push_frozen(lua_State *L, int index, bool nested_frozen, const schema *s)
{
    index = lua_absindex(L, index);
    push_proxy(L, OBJ_FROZEN, frozen_index, frozen_pairs);
    if (nested_frozen) {
        lua_pushvalue(L, index);
        make_strict(L, s);
        lua_setfield(L, -2, "__index");
    } else if (s != NULL) {
        lua_pushlightuserdata(L, (void *)s);
        lua_rawsetp(L, -2, KEY(KEY_SCHEMA));
    }
    lua_pushcfunction(L, frozen_len);
    lua_setfield(L, -2, "__len");
    lua_pushvalue(L, index);
    lua_rawsetp(L, -2, KEY(KEY_BACKING));
    lua_setmetatable(L, -2);
}

/* Replaces the plain table on top of the stack with a frozen proxy over it, strict for
** schema s (NULL: any name). */
static void freeze_top_as(lua_State *L, const schema *s)
{
    push_frozen(L, -1, true, s);
    lua_remove(L, -2);
}

static void freeze_top(lua_State *L)
{
    freeze_top_as(L, NULL);
}

static bool push_shared(lua_State *L, char kind, const char *key, size_t length);
static void keep_shared(lua_State *L, char kind, const char *key, size_t length);

/* Checks that the value at index is one of our proxies of a kind in mask (bit 1 << kind) and
** pushes its metatable; for lazy objects, also that its view has not been retired. Raises
** what, when it is not. Returns the kind. */
static object_kind check_object(lua_State *L, int index, unsigned mask, const char *what)
{
    if (lua_type(L, index) != LUA_TTABLE || !lua_getmetatable(L, index))
        luaL_error(L, "%s", what);
    lua_rawgetp(L, -1, KEY(KEY_KIND));
    lua_Integer kind = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (kind < OBJ_VIEW || kind > OBJ_SYNTHETIC || (mask & (1u << kind)) == 0)
        luaL_error(L, "%s", what);
    if (kind == OBJ_VIEW || kind == OBJ_TOKEN) {
        lua_rawgetp(L, -1, KEY(KEY_GENERATION));
        lua_Integer generation = lua_tointeger(L, -1);
        lua_pop(L, 1);
        if (generation != current_generation(L))
            luaL_error(L, "the message view is no longer valid (it was kept past its decision)");
    }
    return (object_kind)kind;
}

#define LAZY_KINDS ((1u << OBJ_VIEW) | (1u << OBJ_TOKEN))
#define FROZEN_KINDS ((1u << OBJ_FROZEN) | (1u << OBJ_SYNTHETIC))

/* ---- reading properties ------------------------------------------------------------- */

static void push_string(lua_State *L, const warden_string *s)
{
    lua_pushlstring(L, s->data != NULL ? s->data : "", s->data != NULL ? s->length : 0);
}

static void push_message_string(lua_State *L, const warden_message *message, warden_message_property_id id)
{
    warden_string s;
    if (warden_message_get_property(message, id, &s, sizeof s) == WARDEN_OK)
        push_string(L, &s);
    else
        lua_pushnil(L);
}

static void push_token_string(lua_State *L, const warden_token *token, warden_token_property_id id)
{
    warden_string s;
    if (warden_token_get_property(token, id, &s, sizeof s) == WARDEN_OK)
        push_string(L, &s);
    else
        lua_pushnil(L);
}

static bool token_kind_is(const warden_token *token, const char *kind)
{
    warden_string s;
    return warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_KIND, &s, sizeof s) == WARDEN_OK &&
           s.data != NULL && strcmp(s.data, kind) == 0;
}

static bool token_role_is(const warden_token *token, const char *role)
{
    warden_string s;
    return warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_ROLE, &s, sizeof s) == WARDEN_OK &&
           s.data != NULL && strcmp(s.data, role) == 0;
}

/* A plain list of the strings. */
/* Pushes a table NAME -> list of its values in list order, each list frozen in place (the
** table itself is left for the caller to freeze with its schema). A name whose value is NULL
** still gets its list, empty: a SAML Attribute without values. */
static void push_value_lists(lua_State *L, const warden_attr_list *list)
{
    lua_createtable(L, 0, (int)list->count);
    for (size_t i = 0; i < list->count; i++) {
        const warden_attr *item = &list->items[i];
        if (item->name == NULL)
            continue;
        if (lua_getfield(L, -1, item->name) == LUA_TNIL) {
            lua_pop(L, 1);
            lua_createtable(L, 1, 0);
            lua_pushvalue(L, -1);
            lua_setfield(L, -3, item->name);
        }
        if (item->value != NULL) {
            lua_pushstring(L, item->value);
            lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
        }
        lua_pop(L, 1);
    }
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) { /* rawset of an existing key during traversal is allowed */
        freeze_top(L);
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

static void push_string_list(lua_State *L, const warden_string_list *list)
{
    lua_createtable(L, list != NULL ? (int)list->count : 0, 0);
    for (size_t i = 0; list != NULL && i < list->count; i++) {
        push_string(L, &list->items[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

/* ---- field kinds: one C function each ------------------------------------------------ */

/* Each pushes exactly one value (nil when the field is absent) for object (a message or a
** token, by the object's kind) and the property id of its descriptor. */
typedef void (*field_fn)(lua_State *L, const void *object, int id);

typedef struct field {
    const char *name;
    field_fn    push;
    int         id;
} field;

static void message_string_field(lua_State *L, const void *object, int id)
{
    push_message_string(L, object, (warden_message_property_id)id);
}

static void message_time_field(lua_State *L, const void *object, int id)
{
    int64_t t;
    if (warden_message_get_property(object, (warden_message_property_id)id, &t, sizeof t) == WARDEN_OK)
        lua_pushinteger(L, (lua_Integer)t);
    else
        lua_pushnil(L);
}

static void message_protection_field(lua_State *L, const void *object, int id)
{
    int level = 0;
    if (warden_message_get_property(object, (warden_message_property_id)id, &level, sizeof level) != WARDEN_OK)
        level = 0;
    switch (level) {
    case WARDEN_PROTECTION_NONE: lua_pushliteral(L, "none"); break;
    case WARDEN_PROTECTION_SIGN: lua_pushliteral(L, "sign"); break;
    case WARDEN_PROTECTION_SIGN_AND_ENCRYPT: lua_pushliteral(L, "sign_and_encrypt"); break;
    default: lua_pushnil(L); break;
    }
}

static void message_timestamp_field(lua_State *L, const void *object, int id)
{
    int64_t created, expires;
    bool has_created = warden_message_get_property(object, WARDEN_MESSAGE_PROPERTY_TIMESTAMP_CREATED,
                                                   &created, sizeof created) == WARDEN_OK;
    bool has_expires = warden_message_get_property(object, WARDEN_MESSAGE_PROPERTY_TIMESTAMP_EXPIRES,
                                                   &expires, sizeof expires) == WARDEN_OK;
    (void)id;
    if (!has_created && !has_expires) {
        lua_pushnil(L);
        return;
    }
    /* One proxy and one backing table per state, given this decision's values: building
    ** them for every decision costs more than the two numbers. */
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, KEY(KEY_TIMESTAMP)) == LUA_TTABLE) {
        int proxy = lua_gettop(L);
        lua_getmetatable(L, proxy);
        lua_rawgetp(L, -1, KEY(KEY_BACKING));
        if (has_created)
            lua_pushinteger(L, (lua_Integer)created);
        else
            lua_pushnil(L);
        lua_setfield(L, -2, "created");
        if (has_expires)
            lua_pushinteger(L, (lua_Integer)expires);
        else
            lua_pushnil(L);
        lua_setfield(L, -2, "expires");
        lua_settop(L, proxy);
        return;
    }
    lua_pop(L, 1);
    lua_createtable(L, 0, 2);
    if (has_created) {
        lua_pushinteger(L, (lua_Integer)created);
        lua_setfield(L, -2, "created");
    }
    if (has_expires) {
        lua_pushinteger(L, (lua_Integer)expires);
        lua_setfield(L, -2, "expires");
    }
    freeze_top_as(L, &timestamp_schema);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, KEY(KEY_TIMESTAMP));
}

/* Pushes the frozen set { [part name] = true } of a message property that lists part names
** (signed, encrypted). */
static void push_part_set(lua_State *L, const void *message, int id, const schema *set_schema)
{
    warden_string_list parts = { NULL, 0 };
    if (warden_message_get_property(message, (warden_message_property_id)id, &parts, sizeof parts) != WARDEN_OK)
        parts.count = 0;
    lua_createtable(L, 0, (int)parts.count);
    for (size_t i = 0; i < parts.count; i++) {
        push_string(L, &parts.items[i]);
        lua_pushboolean(L, 1);
        lua_rawset(L, -3);
    }
    freeze_top_as(L, set_schema);
}

/* Remembers the signed-parts view on top (left there) as the state's last one. */
static void remember_last_signed(lua_State *L, const warden_string *text)
{
    lua_pushlstring(L, text->data, text->length);
    lua_rawsetp(L, LUA_REGISTRYINDEX, KEY(KEY_LAST_SIGNED_TEXT));
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, KEY(KEY_LAST_SIGNED));
}

static void message_signed_field(lua_State *L, const void *object, int id)
{
    warden_string text = { "", 0 };
    warden_message_get_property(object, WARDEN_MESSAGE_PROPERTY_SIGNED_PARTS, &text, sizeof text);
    /* the last set of signed parts: most messages of a service are signed alike */
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, KEY(KEY_LAST_SIGNED_TEXT)) == LUA_TSTRING) {
        size_t length = 0;
        const char *last = lua_tolstring(L, -1, &length);
        if (length == text.length && memcmp(last, text.data, length) == 0) {
            lua_pop(L, 1);
            lua_rawgetp(L, LUA_REGISTRYINDEX, KEY(KEY_LAST_SIGNED));
            return;
        }
    }
    lua_pop(L, 1);
    if (push_shared(L, 's', text.data, text.length)) {
        remember_last_signed(L, &text);
        return;
    }
    push_part_set(L, object, id, &signed_schema);
    keep_shared(L, 's', text.data, text.length);
    remember_last_signed(L, &text);
}

/* m.encrypted: made for each decision that reads it (few messages are encrypted, and those
** that are name one or two parts). */
static void message_encrypted_field(lua_State *L, const void *object, int id)
{
    push_part_set(L, object, id, &encrypted_schema);
}

static void message_attrs_field(lua_State *L, const void *object, int id)
{
    warden_attr_list attrs = { NULL, 0 };
    if (warden_message_get_property(object, (warden_message_property_id)id, &attrs, sizeof attrs) != WARDEN_OK)
        attrs.count = 0;
    lua_createtable(L, 0, (int)attrs.count);
    for (size_t i = 0; i < attrs.count; i++) {
        if (attrs.items[i].name == NULL || attrs.items[i].value == NULL)
            continue;
        lua_pushstring(L, attrs.items[i].value);
        lua_setfield(L, -2, attrs.items[i].name);
    }
    freeze_top(L);
}

static void message_tokens_field(lua_State *L, const void *object, int id)
{
    size_t count = warden_message_token_count(object);
    (void)id;
    lua_createtable(L, (int)count, 0);
    for (size_t i = 0; i < count; i++) {
        push_lazy(L, OBJ_TOKEN, warden_message_token(object, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    freeze_top(L);
}

/* Frozen views shared by every decision of the state: a certificate's facts never change,
** and most messages carry the same few certificates and signed-part sets. Building them
** once per state (not once per decision) is what keeps m.cert cheap. The table is bounded:
** past SHARED_LIMIT entries it starts over. */
#define SHARED_LIMIT 256

static int shared_table(lua_State *L)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, KEY(KEY_SHARED)) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, 0, 16);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, KEY(KEY_SHARED));
    }
    return lua_gettop(L);
}

/* Pushes the shared value under key (a string of length length, prefixed by kind), or
** nothing and returns false. */
static bool push_shared(lua_State *L, char kind, const char *key, size_t length)
{
    int shared = shared_table(L);
    luaL_Buffer name;
    luaL_buffinit(L, &name);
    luaL_addchar(&name, kind);
    luaL_addlstring(&name, key, length);
    luaL_pushresult(&name);
    if (lua_rawget(L, shared) != LUA_TNIL) {
        lua_remove(L, shared);
        return true;
    }
    lua_pop(L, 2);
    return false;
}

/* Stores the value on top under (kind, key), leaving it on top. */
static void keep_shared(lua_State *L, char kind, const char *key, size_t length)
{
    int value = lua_gettop(L);
    int shared = shared_table(L);
    lua_Integer count = (lua_rawgetp(L, shared, KEY(KEY_SHARED)) == LUA_TNUMBER) ? lua_tointeger(L, -1) : 0;
    lua_pop(L, 1);
    if (count >= SHARED_LIMIT) {
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_rawsetp(L, LUA_REGISTRYINDEX, KEY(KEY_SHARED));
        shared = shared_table(L);
        count = 0;
    }
    lua_pushfstring(L, "%c", kind);
    lua_pushlstring(L, key, length);
    lua_concat(L, 2);
    lua_pushvalue(L, value);
    lua_rawset(L, shared);
    lua_pushinteger(L, count + 1);
    lua_rawsetp(L, shared, KEY(KEY_SHARED));
    lua_settop(L, value);
}

static const struct field *cert_field_list(void);

/* The certificate of an x509 token as a frozen table of all its facts, shared by every
** decision of the state that sees the same certificate (by SHA-256). */
static void push_cert(lua_State *L, const warden_token *token)
{
    warden_string sha256 = { NULL, 0 };
    if (warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_CERT_SHA256, &sha256, sizeof sha256) != WARDEN_OK) {
        lua_pushnil(L);
        return;
    }
    /* the state's last certificate: the common case of one sender, checked by its SHA-256 */
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, KEY(KEY_LAST_CERT)) == LUA_TTABLE) {
        size_t length = 0;
        lua_getfield(L, -1, "sha256");
        const char *last = lua_tolstring(L, -1, &length);
        bool same = last != NULL && length == sha256.length && memcmp(last, sha256.data, length) == 0;
        lua_pop(L, 1);
        if (same)
            return;
    }
    lua_pop(L, 1);
    if (push_shared(L, 'c', sha256.data, sha256.length)) {
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, KEY(KEY_LAST_CERT));
        return;
    }
    lua_createtable(L, 0, 12);
    for (const struct field *f = cert_field_list(); f->name != NULL; f++) {
        f->push(L, token, f->id);
        lua_setfield(L, -2, f->name);
    }
    freeze_top_as(L, &cert_schema);
    keep_shared(L, 'c', sha256.data, sha256.length);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, KEY(KEY_LAST_CERT));
}

/* The certificate of the signing x509 token (the one whose signature covers the Body). */
static void message_cert_field(lua_State *L, const void *object, int id)
{
    size_t count = warden_message_token_count(object);
    (void)id;
    for (size_t i = 0; i < count; i++) {
        const warden_token *token = warden_message_token(object, i);
        if (token != NULL && token_kind_is(token, "x509") && token_role_is(token, "signing")) {
            push_cert(L, token);
            return;
        }
    }
    lua_pushnil(L);
}

/* m.transport: { cert = <the m.cert fields> } of the TLS peer certificate, or nil. */
static void message_transport_field(lua_State *L, const void *object, int id)
{
    size_t count = warden_message_token_count(object);
    (void)id;
    for (size_t i = 0; i < count; i++) {
        const warden_token *token = warden_message_token(object, i);
        if (token != NULL && token_kind_is(token, "transport")) {
            lua_createtable(L, 0, 1);
            push_cert(L, token);
            lua_setfield(L, -2, "cert");
            freeze_top(L);
            return;
        }
    }
    lua_pushnil(L);
}

static void push_token_time(lua_State *L, const warden_token *token, warden_token_property_id id)
{
    int64_t t = 0;
    if (warden_token_get_property(token, id, &t, sizeof t) == WARDEN_OK)
        lua_pushinteger(L, (lua_Integer)t);
    else
        lua_pushnil(L);
}

/* The facts of a saml token as a frozen table (m.saml, token.saml). */
static void push_saml(lua_State *L, const warden_token *token)
{
    static const struct { const char *name; warden_token_property_id id; } strings[] = {
        { "version", WARDEN_TOKEN_PROPERTY_SAML_VERSION },
        { "id", WARDEN_TOKEN_PROPERTY_SAML_ID },
        { "issuer", WARDEN_TOKEN_PROPERTY_SAML_ISSUER },
        { "subject", WARDEN_TOKEN_PROPERTY_SAML_SUBJECT },
        { "name_id_format", WARDEN_TOKEN_PROPERTY_SAML_NAME_ID_FORMAT },
        { "confirmation", WARDEN_TOKEN_PROPERTY_SAML_CONFIRMATION },
        { "authn_context", WARDEN_TOKEN_PROPERTY_SAML_AUTHN_CONTEXT },
    };
    warden_string_list audiences = { NULL, 0 };
    warden_attr_list attributes = { NULL, 0 };

    lua_createtable(L, 0, 12);
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        push_token_string(L, token, strings[i].id);
        lua_setfield(L, -2, strings[i].name);
    }
    push_token_time(L, token, WARDEN_TOKEN_PROPERTY_SAML_NOT_BEFORE);
    lua_setfield(L, -2, "not_before");
    push_token_time(L, token, WARDEN_TOKEN_PROPERTY_SAML_NOT_ON_OR_AFTER);
    lua_setfield(L, -2, "not_on_or_after");
    if (warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_SAML_AUDIENCES, &audiences, sizeof audiences) !=
        WARDEN_OK)
        audiences.count = 0;
    push_string_list(L, &audiences);
    freeze_top(L);
    lua_setfield(L, -2, "audiences");

    /* name -> list of values, in document order; an Attribute without values is an empty list */
    if (warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_SAML_ATTRIBUTES, &attributes, sizeof attributes) !=
        WARDEN_OK)
        attributes.count = 0;
    push_value_lists(L, &attributes);
    freeze_top_as(L, &saml_attributes_schema);
    lua_setfield(L, -2, "attributes");
    freeze_top_as(L, &saml_schema);
}

/* m.saml: the assertion of the message's saml token, or nil. */
static void message_saml_field(lua_State *L, const void *object, int id)
{
    size_t count = warden_message_token_count(object);
    (void)id;
    for (size_t i = 0; i < count; i++) {
        const warden_token *token = warden_message_token(object, i);
        if (token != NULL && token_kind_is(token, "saml")) {
            push_saml(L, token);
            return;
        }
    }
    lua_pushnil(L);
}

static void token_saml_field(lua_State *L, const void *object, int id)
{
    (void)id;
    if (token_kind_is(object, "saml"))
        push_saml(L, object);
    else
        lua_pushnil(L);
}

static void token_string_field(lua_State *L, const void *object, int id)
{
    push_token_string(L, object, (warden_token_property_id)id);
}

/* A time; 0 ("the token sets none") reads as nil. */
static void token_time_field(lua_State *L, const void *object, int id)
{
    int64_t t = 0;
    if (warden_token_get_property(object, (warden_token_property_id)id, &t, sizeof t) == WARDEN_OK && t != 0)
        lua_pushinteger(L, (lua_Integer)t);
    else
        lua_pushnil(L);
}

static void token_key_type_field(lua_State *L, const void *object, int id)
{
    int type = 0;
    if (warden_token_get_property(object, (warden_token_property_id)id, &type, sizeof type) != WARDEN_OK)
        type = 0;
    switch (type) {
    case WARDEN_KEY_TYPE_NONE: lua_pushliteral(L, "none"); break;
    case WARDEN_KEY_TYPE_SYMMETRIC: lua_pushliteral(L, "symmetric"); break;
    case WARDEN_KEY_TYPE_ASYMMETRIC: lua_pushliteral(L, "asymmetric"); break;
    default: lua_pushnil(L); break;
    }
}

static void token_x509_field(lua_State *L, const void *object, int id)
{
    (void)id;
    if (token_kind_is(object, "x509"))
        push_cert(L, object);
    else
        lua_pushnil(L);
}

static void token_transport_field(lua_State *L, const void *object, int id)
{
    (void)id;
    if (token_kind_is(object, "transport"))
        push_cert(L, object);
    else
        lua_pushnil(L);
}

static void token_username_field(lua_State *L, const void *object, int id)
{
    (void)id;
    if (!token_kind_is(object, "username")) {
        lua_pushnil(L);
        return;
    }
    lua_createtable(L, 0, 2);
    push_token_string(L, object, WARDEN_TOKEN_PROPERTY_USERNAME);
    lua_setfield(L, -2, "name");
    push_token_string(L, object, WARDEN_TOKEN_PROPERTY_PASSWORD_TYPE);
    lua_setfield(L, -2, "password_type");
    freeze_top_as(L, &username_schema);
}

/* attribute -> its first value, in DN order (subject, issuer). */
static void cert_attrs_first_field(lua_State *L, const void *object, int id)
{
    warden_attr_list attrs = { NULL, 0 };
    if (warden_token_get_property(object, (warden_token_property_id)id, &attrs, sizeof attrs) != WARDEN_OK) {
        lua_pushnil(L);
        return;
    }
    lua_createtable(L, 0, (int)attrs.count);
    for (size_t i = 0; i < attrs.count; i++) {
        if (attrs.items[i].name == NULL || attrs.items[i].value == NULL)
            continue;
        if (lua_getfield(L, -1, attrs.items[i].name) == LUA_TNIL) {
            lua_pushstring(L, attrs.items[i].value);
            lua_setfield(L, -3, attrs.items[i].name);
        }
        lua_pop(L, 1);
    }
    freeze_top_as(L, id == WARDEN_TOKEN_PROPERTY_CERT_SUBJECT_ATTRS ? &subject_schema : &issuer_schema);
}

/* attribute -> list of all its values, in DN order (subject_all, issuer_all). */
static void cert_attrs_all_field(lua_State *L, const void *object, int id)
{
    warden_attr_list attrs = { NULL, 0 };
    if (warden_token_get_property(object, (warden_token_property_id)id, &attrs, sizeof attrs) != WARDEN_OK) {
        lua_pushnil(L);
        return;
    }
    push_value_lists(L, &attrs);
    freeze_top_as(L, id == WARDEN_TOKEN_PROPERTY_CERT_SUBJECT_ATTRS ? &subject_all_schema : &issuer_all_schema);
}

static void cert_san_field(lua_State *L, const void *object, int id)
{
    static const struct { const char *name; warden_token_property_id id; } kinds[] = {
        { "dns", WARDEN_TOKEN_PROPERTY_CERT_SAN_DNS },
        { "email", WARDEN_TOKEN_PROPERTY_CERT_SAN_EMAIL },
        { "uri", WARDEN_TOKEN_PROPERTY_CERT_SAN_URI },
        { "ip", WARDEN_TOKEN_PROPERTY_CERT_SAN_IP },
    };
    (void)id;
    lua_createtable(L, 0, 4);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        warden_string_list list = { NULL, 0 };
        if (warden_token_get_property(object, kinds[i].id, &list, sizeof list) != WARDEN_OK)
            list.count = 0;
        push_string_list(L, &list);
        freeze_top(L);
        lua_setfield(L, -2, kinds[i].name);
    }
    freeze_top_as(L, &san_schema);
}

static void cert_key_field(lua_State *L, const void *object, int id)
{
    int bits = 0;
    (void)id;
    lua_createtable(L, 0, 2);
    push_token_string(L, object, WARDEN_TOKEN_PROPERTY_CERT_KEY_TYPE);
    lua_setfield(L, -2, "type");
    if (warden_token_get_property(object, WARDEN_TOKEN_PROPERTY_CERT_KEY_BITS, &bits, sizeof bits) == WARDEN_OK) {
        lua_pushinteger(L, bits);
        lua_setfield(L, -2, "bits");
    }
    freeze_top_as(L, &key_schema);
}

static const field view_fields[] = {
    { "action", message_string_field, WARDEN_MESSAGE_PROPERTY_ACTION },
    { "to", message_string_field, WARDEN_MESSAGE_PROPERTY_TO },
    { "http_action", message_string_field, WARDEN_MESSAGE_PROPERTY_HTTP_ACTION },
    { "http_method", message_string_field, WARDEN_MESSAGE_PROPERTY_HTTP_METHOD },
    { "http_path", message_string_field, WARDEN_MESSAGE_PROPERTY_HTTP_PATH },
    { "message_id", message_string_field, WARDEN_MESSAGE_PROPERTY_MESSAGE_ID },
    { "soap", message_string_field, WARDEN_MESSAGE_PROPERTY_SOAP_VERSION },
    { "operation", message_string_field, WARDEN_MESSAGE_PROPERTY_OPERATION },
    { "protection", message_protection_field, WARDEN_MESSAGE_PROPERTY_PROTECTION_LEVEL },
    { "username", message_string_field, WARDEN_MESSAGE_PROPERTY_USERNAME },
    { "timestamp", message_timestamp_field, 0 },
    { "now", message_time_field, WARDEN_MESSAGE_PROPERTY_NOW },
    { "signed", message_signed_field, WARDEN_MESSAGE_PROPERTY_SIGNED_PART_LIST },
    { "encrypted", message_encrypted_field, WARDEN_MESSAGE_PROPERTY_ENCRYPTED_PART_LIST },
    { "cert", message_cert_field, 0 },
    { "tokens", message_tokens_field, 0 },
    { "transport", message_transport_field, 0 },
    { "saml", message_saml_field, 0 },
    { "attrs", message_attrs_field, WARDEN_MESSAGE_PROPERTY_ATTRS },
    { NULL, NULL, 0 },
};

static const field token_fields[] = {
    { "kind", token_string_field, WARDEN_TOKEN_PROPERTY_KIND },
    { "role", token_string_field, WARDEN_TOKEN_PROPERTY_ROLE },
    { "key_type", token_key_type_field, WARDEN_TOKEN_PROPERTY_KEY_TYPE },
    { "valid_from", token_time_field, WARDEN_TOKEN_PROPERTY_VALID_FROM_TIME },
    { "valid_till", token_time_field, WARDEN_TOKEN_PROPERTY_VALID_TILL_TIME },
    { "x509", token_x509_field, 0 },
    { "transport", token_transport_field, 0 },
    { "username", token_username_field, 0 },
    { "saml", token_saml_field, 0 },
    { NULL, NULL, 0 },
};

static const field cert_fields[] = {
    { "subject", cert_attrs_first_field, WARDEN_TOKEN_PROPERTY_CERT_SUBJECT_ATTRS },
    { "issuer", cert_attrs_first_field, WARDEN_TOKEN_PROPERTY_CERT_ISSUER_ATTRS },
    { "subject_all", cert_attrs_all_field, WARDEN_TOKEN_PROPERTY_CERT_SUBJECT_ATTRS },
    { "issuer_all", cert_attrs_all_field, WARDEN_TOKEN_PROPERTY_CERT_ISSUER_ATTRS },
    { "subject_dn", token_string_field, WARDEN_TOKEN_PROPERTY_CERT_SUBJECT },
    { "issuer_dn", token_string_field, WARDEN_TOKEN_PROPERTY_CERT_ISSUER },
    { "serial", token_string_field, WARDEN_TOKEN_PROPERTY_CERT_SERIAL },
    { "sha256", token_string_field, WARDEN_TOKEN_PROPERTY_CERT_SHA256 },
    { "not_before", token_time_field, WARDEN_TOKEN_PROPERTY_VALID_FROM_TIME },
    { "not_after", token_time_field, WARDEN_TOKEN_PROPERTY_VALID_TILL_TIME },
    { "san", cert_san_field, 0 },
    { "key", cert_key_field, 0 },
    { NULL, NULL, 0 },
};

static const struct field *cert_field_list(void)
{
    return cert_fields;
}

static const field *fields_of(object_kind kind)
{
    switch (kind) {
    case OBJ_VIEW: return view_fields;
    case OBJ_TOKEN: return token_fields;
    default: return NULL;
    }
}

/* ---- lazy objects ------------------------------------------------------------------- */

/* Pushes the value of field f of the lazy object whose metatable is at mt: from its cache,
** or computed and cached (absent fields are not cached: a cache hit must never read as
** anything but the value). */
static void push_field(lua_State *L, int mt, const field *f)
{
    lua_rawgetp(L, mt, KEY(KEY_CACHE));
    int cache = lua_gettop(L);
    lua_getfield(L, cache, f->name); /* a miss goes to lazy_miss, which computes and caches */
    lua_remove(L, cache);
}

/* __index of a lazy object's field cache: (cache, key), for a field not cached yet. */
static int lazy_miss(lua_State *L)
{
    if (lua_type(L, 2) != LUA_TSTRING)
        return 0;
    /* what a miss needs sits in the cache itself: one look-up each */
    lua_rawgetp(L, 1, KEY(KEY_KIND));
    object_kind kind = (object_kind)lua_tointeger(L, -1);
    lua_rawgetp(L, 1, KEY(KEY_OBJECT));
    const void *object = lua_touserdata(L, -1);
    lua_pop(L, 2);
    if (object == NULL)
        return 0;
    if (kind != OBJ_VIEW) {
        /* the view's cache is replaced with each decision and unreachable after; a token
        ** view may have been kept from an earlier decision */
        lua_rawgetp(L, 1, KEY(KEY_GENERATION));
        lua_Integer generation = lua_tointeger(L, -1);
        lua_pop(L, 1);
        if (generation != current_generation(L))
            return luaL_error(L, "the message view is no longer valid (it was kept past its decision)");
    }
    size_t length = 0;
    const char *name = lua_tolstring(L, 2, &length);
    if (kind == OBJ_VIEW && length == 4 && memcmp(name, "body", 4) == 0) {
        lua_pushcfunction(L, view_body);
        lua_pushvalue(L, -1);
        lua_setfield(L, 1, "body");
        return 1;
    }
    for (const field *f = fields_of(kind); f != NULL && f->name != NULL; f++) {
        if (f->name[0] != name[0] || strcmp(f->name, name) != 0) /* most names differ at once */
            continue;
        f->push(L, object, f->id);
        if (!lua_isnil(L, -1)) {
            lua_pushvalue(L, -1);
            lua_setfield(L, 1, f->name);
        }
        return 1;
    }
    return schema_miss(L, kind == OBJ_VIEW ? &view_schema : &token_schema, 2);
}

/* The iterator of pairs over a lazy object: (object, key) -> next key with a non-nil value. */
static int lazy_next(lua_State *L)
{
    object_kind kind = check_object(L, 1, LAZY_KINDS, "bad argument to the message view iterator");
    int mt = lua_gettop(L);
    const field *f = fields_of(kind);
    if (!lua_isnil(L, 2)) {
        const char *name = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "";
        while (f->name != NULL && strcmp(f->name, name) != 0)
            f++;
        if (f->name == NULL)
            return luaL_error(L, "invalid key to the message view iterator");
        f++;
    }
    for (; f->name != NULL; f++) {
        push_field(L, mt, f);
        if (!lua_isnil(L, -1)) {
            lua_pushstring(L, f->name);
            lua_insert(L, -2);
            return 2;
        }
        lua_pop(L, 1);
    }
    lua_pushnil(L);
    return 1;
}

static int lazy_pairs(lua_State *L)
{
    lua_pushcfunction(L, lazy_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* ---- frozen proxies and synthetic views --------------------------------------------- */

/* The schema a synthetic view's proxy (metatable at mt) checks names against, or NULL. */
static const schema *proxy_schema(lua_State *L, int mt)
{
    lua_rawgetp(L, mt, KEY(KEY_SCHEMA));
    const schema *s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return s;
}

/* Replaces the table on top of the stack, read under the key at index key, with its proxy,
** made once per proxy at mt; the proxy checks the names of that key's schema. */
static void wrap_nested(lua_State *L, int mt, int key)
{
    key = lua_absindex(L, key);
    int value = lua_gettop(L);
    if (lua_getmetatable(L, value)) {
        bool ours = lua_rawgetp(L, -1, KEY(KEY_KIND)) != LUA_TNIL;
        lua_settop(L, value);
        if (ours)
            return; /* already one of the view's read-only tables (a token view in m.tokens) */
    }
    if (lua_rawgetp(L, mt, KEY(KEY_CACHE)) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, 0, 1);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, mt, KEY(KEY_CACHE));
    }
    int cache = lua_gettop(L);
    lua_pushvalue(L, value);
    if (lua_rawget(L, cache) == LUA_TNIL) {
        lua_pop(L, 1);
        push_frozen(L, value, false, schema_child(L, proxy_schema(L, mt), key));
        lua_pushvalue(L, value);
        lua_pushvalue(L, -2);
        lua_rawset(L, cache);
    }
    lua_replace(L, value);
    lua_settop(L, value);
}

/* A synthetic view's default for a field its table leaves out (pushes nil when none). */
static void push_synthetic_default(lua_State *L, int mt, const char *name)
{
    if (strcmp(name, "now") == 0) {
        lua_rawgetp(L, mt, KEY(KEY_NOW));
        return;
    }
    if (strcmp(name, "signed") != 0 && strcmp(name, "encrypted") != 0 && strcmp(name, "attrs") != 0 &&
        strcmp(name, "tokens") != 0) {
        lua_pushnil(L);
        return;
    }
    /* one empty table per view and name, so that m.signed == m.signed */
    if (lua_getfield(L, mt, name) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_newtable(L);
        freeze_top_as(L, strcmp(name, "signed") == 0      ? &signed_schema
                         : strcmp(name, "encrypted") == 0 ? &encrypted_schema
                                                          : NULL);
        lua_pushvalue(L, -1);
        lua_setfield(L, mt, name);
    }
}

/* __index of a frozen proxy or a synthetic view: (proxy, key). */
static int frozen_index(lua_State *L)
{
    object_kind kind = check_object(L, 1, FROZEN_KINDS, "not a message view");
    int mt = lua_gettop(L);
    bool named = lua_type(L, 2) == LUA_TSTRING;
    if (kind == OBJ_SYNTHETIC && named && strcmp(lua_tostring(L, 2), "body") == 0) {
        lua_pushcfunction(L, view_body);
        return 1;
    }
    /* a synthetic message may set names a real one never has (m.usename): reading them
    ** raises all the same, so a test cannot pass on a typo that production would refuse */
    const schema *s = named ? proxy_schema(L, mt) : NULL;
    if (s != NULL && !schema_knows(s, lua_tostring(L, 2)))
        return unknown_name_error(L, s, lua_tostring(L, 2));
    lua_rawgetp(L, mt, KEY(KEY_BACKING));
    lua_pushvalue(L, 2);
    int type = lua_gettable(L, -2);
    if (type == LUA_TNIL && named) {
        lua_pop(L, 1);
        if (kind == OBJ_SYNTHETIC)
            push_synthetic_default(L, mt, lua_tostring(L, 2));
        else
            lua_pushnil(L);
        if (lua_isnil(L, -1))
            return schema_miss(L, s, 2);
    } else if (type == LUA_TTABLE) {
        wrap_nested(L, mt, 2);
    }
    return 1;
}

static int frozen_len(lua_State *L)
{
    check_object(L, 1, FROZEN_KINDS, "not a message view");
    lua_rawgetp(L, -1, KEY(KEY_BACKING));
    lua_pushinteger(L, luaL_len(L, -1));
    return 1;
}

/* The iterator of pairs over a frozen proxy: the backing table's pairs, nested tables
** wrapped; a synthetic view leaves out its `body` map (m.body is the method). */
static int frozen_next(lua_State *L)
{
    object_kind kind = check_object(L, 1, FROZEN_KINDS, "bad argument to the message view iterator");
    int mt = lua_gettop(L);
    lua_rawgetp(L, mt, KEY(KEY_BACKING));
    int backing = lua_gettop(L);
    lua_pushvalue(L, 2);
    for (;;) {
        if (!lua_next(L, backing)) {
            lua_pushnil(L);
            return 1;
        }
        if (kind == OBJ_SYNTHETIC && lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), "body") == 0) {
            lua_pop(L, 1);
            continue;
        }
        if (lua_type(L, -1) == LUA_TTABLE)
            wrap_nested(L, mt, -2);
        return 2;
    }
}

static int frozen_pairs(lua_State *L)
{
    lua_pushcfunction(L, frozen_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* ---- m:body(path) ------------------------------------------------------------------- */

/* m:body returns exactly one value: an absent element is nil, never "no value" (which
** would make tonumber(m:body("x")) raise "bad argument #1 to 'tonumber'"). */
static int no_text(lua_State *L)
{
    lua_pushnil(L);
    return 1;
}

static int real_body(lua_State *L, int mt, const char *path, size_t path_length)
{
    char stack_buffer[BODY_BUFFER];
    size_t length = 0;

    lua_rawgetp(L, mt, KEY(KEY_OBJECT));
    const warden_message *message = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (strlen(path) != path_length)
        return no_text(L); /* a NUL inside the path: no element has that name */

    int status = warden_message_body_text(message, path, stack_buffer, sizeof stack_buffer, &length);
    if (status == WARDEN_E_NOT_APPLICABLE || status == WARDEN_E_INVALID_ARG)
        return no_text(L);
    if (status != WARDEN_OK)
        return luaL_error(L, "m:body: %s", warden_strerror(status));
    if (length < sizeof stack_buffer) {
        lua_pushlstring(L, stack_buffer, length);
        return 1;
    }

    /* too long for the stack: once more into a buffer the state allocates (and counts) */
    luaL_Buffer buffer;
    size_t expected = length;
    char *text = luaL_buffinitsize(L, &buffer, expected + 1);
    status = warden_message_body_text(message, path, text, expected + 1, &length);
    if (status != WARDEN_OK || length != expected)
        return luaL_error(L, "m:body: the element's text changed between reads");
    luaL_pushresultsize(&buffer, length);
    return 1;
}

static int synthetic_body(lua_State *L, int mt)
{
    lua_rawgetp(L, mt, KEY(KEY_BACKING));
    if (lua_getfield(L, -1, "body") != LUA_TTABLE)
        return no_text(L);
    lua_pushvalue(L, 2);
    switch (lua_gettable(L, -2)) {
    case LUA_TSTRING:
        return 1;
    case LUA_TNUMBER:
        lua_tolstring(L, -1, NULL); /* as text, as a real message gives it */
        return 1;
    default:
        return no_text(L);
    }
}

/* m:body(path): (view, path) -> string or nil. */
static int view_body(lua_State *L)
{
    size_t path_length = 0;
    object_kind kind = check_object(L, 1, (1u << OBJ_VIEW) | (1u << OBJ_SYNTHETIC),
                                    "m:body must be called on the message view, as m:body(path)");
    int mt = lua_gettop(L);
    if (lua_type(L, 2) != LUA_TSTRING)
        return luaL_error(L, "m:body expects a path string");
    const char *path = lua_tolstring(L, 2, &path_length);
    if (kind == OBJ_VIEW)
        return real_body(L, mt, path, path_length);
    return synthetic_body(L, mt);
}

/* ---- entry points ------------------------------------------------------------------- */

void wd_view_push_message(lua_State *L, const warden_message *message)
{
    /* retire the token views pushed before: they may point to freed messages */
    lua_Integer generation = current_generation(L) + 1;
    lua_pushinteger(L, generation);
    lua_rawsetp(L, LUA_REGISTRYINDEX, KEY(KEY_CURRENT));

    /* The state keeps one view object and points it at each decision's message with a
    ** fresh field cache: the object and its metatable are built once per state. A view a
    ** policy kept from an earlier decision is this same object, so it reads the current
    ** message, never a freed one. */
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, KEY(KEY_VIEW)) == LUA_TTABLE && lua_getmetatable(L, -1)) {
        attach_cache(L, lua_gettop(L), OBJ_VIEW, message, generation);
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    push_lazy(L, OBJ_VIEW, message);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, KEY(KEY_VIEW));
}

void wd_view_push_synthetic(lua_State *L, int index, int64_t now)
{
    index = lua_absindex(L, index);
    push_proxy(L, OBJ_SYNTHETIC, frozen_index, frozen_pairs);
    lua_pushcfunction(L, frozen_len);
    lua_setfield(L, -2, "__len");
    if (lua_type(L, index) == LUA_TTABLE)
        lua_pushvalue(L, index);
    else
        lua_newtable(L);
    lua_rawsetp(L, -2, KEY(KEY_BACKING));
    lua_pushinteger(L, (lua_Integer)now);
    lua_rawsetp(L, -2, KEY(KEY_NOW));
    lua_pushlightuserdata(L, (void *)&view_schema);
    lua_rawsetp(L, -2, KEY(KEY_SCHEMA));
    lua_setmetatable(L, -2);
}

/* ---- schemas for warden check --------------------------------------------------------- */

const wd_view_schema *wd_view_schema_root(void)
{
    return &view_schema;
}

const wd_view_schema *wd_view_schema_field(const wd_view_schema *s, const char *name, bool *known)
{
    *known = schema_knows(s, name);
    if (s == NULL || !*known)
        return NULL;
    const schema_field *f = schema_find(s, name);
    return f != NULL ? f->child : NULL;
}

const wd_view_schema *wd_view_schema_item(const wd_view_schema *s)
{
    return s != NULL ? s->items : NULL;
}

void wd_view_schema_unknown(const wd_view_schema *s, const char *name, char *message, size_t capacity)
{
    unknown_name_message(s, name, message, capacity);
}

const char *wd_view_nearest(const char *name, const char *const *names)
{
    const char *best = NULL;
    size_t best_score = (size_t)-1;
    for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
        size_t score = edit_distance(name, names[i], true) * 4 + edit_distance(name, names[i], false);
        if (score < best_score) {
            best_score = score;
            best = names[i];
        }
    }
    return best;
}
