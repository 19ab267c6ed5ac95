// A Sportello rule in C, without any SDK (ABI v1, docs/plugins.md): the `validate` hook accepts a
// booking only when the service's field `notice_number` was answered.
//
// Build: clang --target=wasm32-wasi -O2 -nostartfiles -Wl,--no-entry -Wl,--strip-all -o rule.wasm rule.c
// (Debian: apt-get install clang lld wasi-libc; scripts/build-plugins does it for you.)
#include <stdio.h>
#include <string.h>

// The ABI version this module speaks: the host reads it from the export's name.
__attribute__((export_name("sportello_abi_1"))) void abi(void) {}

__attribute__((export_name("sportello_validate"))) void validate(void) {
    // The host sends at most 64 KiB.
    static char input[65536 + 1];
    size_t length = fread(input, 1, sizeof input - 1, stdin);
    input[length] = '\0';
    // A real rule would parse the JSON; finding the key inside "answers" is enough for this example.
    const char *answers = strstr(input, "\"answers\"");
    if (answers != NULL && strstr(answers, "\"notice_number\"") != NULL) {
        fputs("{\"ok\":true,\"summary\":[{\"label\":{\"it\":\"Controllo\",\"en\":\"Check\"},\"value\":\"C\"}]}", stdout);
    } else {
        fputs("{\"ok\":false,\"errors\":[{\"field\":\"answers.notice_number\","
              "\"message\":{\"it\":\"Scrivi il numero dell'avviso.\",\"en\":\"Enter the notice number.\"}}]}",
              stdout);
    }
    // A reactor never exits: flush, or the host reads nothing.
    fflush(stdout);
}
