/*
 * A minimal program built against an installed libslate, the way a proxy
 * author's project would consume it (CMake find_package or pkg-config).
 * It checks that header and library agree and uses the core structures.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <slate/slate.h>

#include <stdio.h>

int main(void)
{
    if (slate_version_number() != SLATE_VERSION_NUMBER) {
        fprintf(stderr, "header %s but library %s\n", SLATE_VERSION_STRING, slate_version_string());
        return 1;
    }
    printf("libslate %s: %s\n", slate_version_string(), slate_strerror(SLATE_OK));
    return 0;
}
