/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/* The symbols nginx's load_module looks up in a dynamic module: the modules
 * the file holds, their names, and (empty) ordering constraints. */
#include <ngx_config.h>
#include <ngx_core.h>

extern ngx_module_t ngx_http_slate_module;

__attribute__((visibility("default"))) ngx_module_t *ngx_modules[] = {&ngx_http_slate_module, NULL};

__attribute__((visibility("default"))) char *ngx_module_names[] = {"ngx_http_slate_module", NULL};

__attribute__((visibility("default"))) char *ngx_module_order[] = {NULL};
