/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "slate/name.h"

#include "slate/key.h"

static int is_lower_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(unsigned char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* RFC 9110 section 5.6.2: tchar. */
static int is_tchar(unsigned char c)
{
    if (is_alnum(c))
        return 1;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return 1;
    default:
        return 0;
    }
}

static slate_status bad(const char **why, const char *msg)
{
    if (why)
        *why = msg;
    return SLATE_ENAME;
}

static slate_status check_service(const unsigned char *s, size_t len, const char **why)
{
    if (len == 0)
        return bad(why, "is empty");
    if (len > SLATE_NAME_MAX_LABEL)
        return bad(why, "is longer than 63 bytes (a DNS-1123 label)");
    for (size_t i = 0; i < len; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return bad(why, "may hold only lowercase letters, digits and '-' (a DNS-1123 label)");
    if (s[0] == '-' || s[len - 1] == '-')
        return bad(why, "must start and end with a lowercase letter or digit (a DNS-1123 label)");
    return SLATE_OK;
}

static slate_status check_label(const unsigned char *s, size_t len, int may_be_empty,
                                const char **why)
{
    if (len == 0)
        return may_be_empty ? SLATE_OK : bad(why, "is empty");
    if (len > SLATE_NAME_MAX_LABEL)
        return bad(why, "is longer than 63 bytes (a Kubernetes label value)");
    for (size_t i = 0; i < len; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return bad(why, "may hold only letters, digits, '-', '_' and '.' (a Kubernetes "
                            "label value)");
    if (!is_alnum(s[0]) || !is_alnum(s[len - 1]))
        return bad(why, "must start and end with a letter or digit (a Kubernetes label value)");
    return SLATE_OK;
}

static slate_status check_method(const unsigned char *s, size_t len, const char **why)
{
    if (len == 0)
        return bad(why, "is empty");
    if (len > SLATE_KEY_MAX_NAME)
        return bad(why, "is longer than 255 bytes");
    for (size_t i = 0; i < len; i++)
        if (!is_tchar(s[i]))
            return bad(why, "is not an HTTP token (RFC 9110 tchar only)");
    return SLATE_OK;
}

static slate_status check_path(const unsigned char *s, size_t len, const char **why)
{
    if (len == 0)
        return bad(why, "is empty");
    if (len > SLATE_NAME_MAX_PATH)
        return bad(why, "is longer than 4096 bytes");
    if (!(s[0] == '/' || (len == 1 && s[0] == '*')))
        return bad(why, "must start with '/' (or be exactly '*')");
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return bad(why, "may hold only visible ASCII (no spaces, control or raw non-ASCII "
                            "bytes; percent-encode them)");
    return SLATE_OK;
}

slate_status slate_name_check(slate_name_kind kind, const char *s, size_t len, const char **why)
{
    if (why)
        *why = "";
    if (!s && len > 0)
        return SLATE_EINVAL;
    const unsigned char *u = (const unsigned char *)s;
    switch (kind) {
    case SLATE_NAME_SERVICE:
        return check_service(u, len, why);
    case SLATE_NAME_REGION:
        return check_label(u, len, 0, why);
    case SLATE_NAME_POD:
        return check_label(u, len, 1, why);
    case SLATE_NAME_METHOD:
        return check_method(u, len, why);
    case SLATE_NAME_PATH:
        return check_path(u, len, why);
    default:
        if (why)
            *why = "unknown name kind";
        return SLATE_EINVAL;
    }
}

const char *slate_name_kind_str(slate_name_kind kind)
{
    switch (kind) {
    case SLATE_NAME_SERVICE:
        return "service";
    case SLATE_NAME_REGION:
        return "region";
    case SLATE_NAME_POD:
        return "pod";
    case SLATE_NAME_METHOD:
        return "method";
    case SLATE_NAME_PATH:
        return "path";
    default:
        return "name";
    }
}
