/* test_shipped_handlers.c - the handlers shipped with the function sets, run
 * the way `octo run` runs them (octo_handler_run: {dir} resolved, argv
 * without a shell) on arguments the generator writes, in a temporary state
 * directory and HOME.
 *
 * Every android function must exit 0 with one line of output and leave what
 * it says it left (files under the state directory); hostile values stay
 * data; the offline service handler logs each call as one JSON line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/funcset.h"
#include "agent/handler.h"
#include "base/error.h"
#include "base/file.h"
#include "data/generator.h"
#include "testlib.h"

static char g_state[600], g_home[600];

static bool one_line(const char *s) {
    size_t n = strlen(s);
    return n >= 2 && s[n - 1] == '\n' && memchr(s, '\n', n - 1) == NULL;
}

/* Arguments for every function of a set, from generated records. */
static cJSON *sample_args(const octo_funcset *fs, octo_phrasebook *pb, int fi, uint64_t seed) {
    octo_gen_opts o;
    octo_gen_opts_default(&o);
    o.seed = seed;
    o.n = 4000;
    octo_generator *g = octo_generator_new(&fs, &pb, 1, &o);
    cJSON *found = NULL;
    for (int i = 0; g && i < 4000 && !found; i++) {
        cJSON *r = octo_generator_record(g, i);
        cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(r, "calls"))
            if (!found && !strcmp(cJSON_GetObjectItem(c, "function")->valuestring, fs->fns[fi].name))
                found = cJSON_Duplicate(cJSON_GetObjectItem(c, "arguments"), 1);
        cJSON_Delete(r);
    }
    octo_generator_free(g);
    return found;
}

static int count_files(const char *dir) {
    char cmd[800];
    snprintf(cmd, sizeof cmd, "find '%s' -type f | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return n;
}

TEST(android_handlers_run) {
    octo_funcset *fs = octo_funcset_load("functions/android.json");
    REQUIRE(fs);
    octo_phrasebook *pb = octo_phrasebook_load("phrasings", fs);
    REQUIRE(pb);
    int ran = 0;
    for (int f = 0; f < fs->n; f++) {
        CHECKF(fs->fns[f].handler.kind == OCTO_HANDLER_EXEC, "%s has no exec handler", fs->fns[f].name);
        cJSON *args = sample_args(fs, pb, f, 21);
        CHECKF(args != NULL, "%s: no generated call", fs->fns[f].name);
        if (!args) continue;
        int before = count_files(g_state);
        char *obs = NULL;
        int rc = octo_handler_run(&fs->fns[f], args, &obs);
        char *a = cJSON_PrintUnformatted(args);
        CHECKF(rc == 0, "%s(%s): %s", fs->fns[f].name, a, octo_last_error());
        CHECKF(obs && one_line(obs), "%s: output \"%s\"", fs->fns[f].name, obs ? obs : "(none)");
        /* what is said to be saved is there */
        if (obs && (strstr(obs, "saved") || strstr(obs, "recorded")))
            CHECKF(count_files(g_state) > before || strstr(obs, "recorded"), "%s: said saved, no new file",
                   fs->fns[f].name);
        free(a);
        free(obs);
        cJSON_Delete(args);
        ran++;
    }
    CHECK(ran == fs->n);
    octo_phrasebook_free(pb);
    octo_funcset_free(fs);
}

TEST(android_files_are_real) {
    octo_funcset *fs = octo_funcset_load("functions/android.json");
    REQUIRE(fs);
    /* a file to find under HOME, then attach */
    char p[800];
    snprintf(p, sizeof p, "%s/Documents", g_home);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/Documents/quarterly report 2026.pdf", g_home);
    REQUIRE(octo_write_file_atomic(p, "pdf", 3) == 0);
    char *obs = NULL;
    cJSON *args = cJSON_Parse("{\"name\":\"quarterly report\"}");
    CHECK(octo_handler_run(&fs->fns[octo_funcset_find(fs, "find_file")], args, &obs) == 0);
    CHECK(obs && strstr(obs, "quarterly report 2026.pdf"));
    free(obs);
    cJSON_Delete(args);
    args = cJSON_Parse("{\"to\":\"boss\",\"subject\":\"Q3\",\"attachment\":\"quarterly report\"}");
    CHECK(octo_handler_run(&fs->fns[octo_funcset_find(fs, "send_email")], args, &obs) == 0);
    CHECK(obs && strstr(obs, "outbox") && strstr(obs, "quarterly report 2026.pdf"));
    free(obs);
    cJSON_Delete(args);
    /* an alarm file with the time; an event in iCalendar form */
    args = cJSON_Parse("{\"time\":\"07:30\",\"label\":\"gym\"}");
    CHECK(octo_handler_run(&fs->fns[octo_funcset_find(fs, "set_alarm")], args, &obs) == 0);
    char *path = obs ? strstr(obs, g_state) : NULL;
    REQUIRE(path);
    path[strcspn(path, "\n")] = 0;
    size_t n;
    char *text = octo_read_file(path, &n);
    CHECK(text && strstr(text, "time=07:30") && strstr(text, "label=gym"));
    free(text);
    free(obs);
    cJSON_Delete(args);
    args = cJSON_Parse("{\"title\":\"Dentist\",\"date\":\"2026-03-03\",\"time\":\"14:15\"}");
    CHECK(octo_handler_run(&fs->fns[octo_funcset_find(fs, "create_calendar_event")], args, &obs) == 0);
    path = obs ? strstr(obs, g_state) : NULL;
    REQUIRE(path);
    path[strcspn(path, "\n")] = 0;
    text = octo_read_file(path, &n);
    CHECK(text && strstr(text, "DTSTART:20260303T141500") && strstr(text, "SUMMARY:Dentist"));
    free(text);
    free(obs);
    cJSON_Delete(args);
    /* bad arguments: exit 2, nothing pretended */
    args = cJSON_Parse("{\"level\":400}");
    CHECK(octo_handler_run(&fs->fns[octo_funcset_find(fs, "set_brightness")], args, &obs) != 0);
    free(obs);
    cJSON_Delete(args);
    octo_funcset_free(fs);
}

TEST(hostile_values_stay_data) {
    octo_funcset *fs = octo_funcset_load("functions/android.json");
    REQUIRE(fs);
    char canary[700], evil[2400];
    snprintf(canary, sizeof canary, "%s/pwned", g_state);
    snprintf(evil, sizeof evil, "x'; touch %s; echo \"$(touch %s)\" `touch %s`\nline2", canary, canary, canary);
    const char *fns[] = {"send_text_message", "create_contact", "send_email", "find_file", "play_music",
                         "get_trending_news", "connect_to_bluetooth_device", "open_app", "get_directions"};
    const char *p1[] = {"to", "name", "to", "name", "song", "topic", "device_name", "app_name", "destination"};
    const char *p2[] = {"message", "phone_number", "subject", NULL, "artist", NULL, NULL, NULL, "origin"};
    for (int i = 0; i < 9; i++) {
        cJSON *args = cJSON_CreateObject();
        cJSON_AddStringToObject(args, p1[i], evil);
        if (p2[i]) cJSON_AddStringToObject(args, p2[i], evil);
        char *obs = NULL;
        int rc = octo_handler_run(&fs->fns[octo_funcset_find(fs, fns[i])], args, &obs);
        CHECKF(rc == 0 && obs && one_line(obs), "%s: rc %d, \"%s\"", fns[i], rc, obs ? obs : "");
        free(obs);
        cJSON_Delete(args);
    }
    struct stat st;
    CHECK(stat(canary, &st) != 0);
    octo_funcset_free(fs);
}

TEST(offline_service_handlers_log) {
    const char *sets[] = {"ecommerce", "video_streaming", "travel"};
    for (int s = 0; s < 3; s++) {
        char path[256];
        snprintf(path, sizeof path, "functions/%s.json", sets[s]);
        octo_funcset *fs = octo_funcset_load(path);
        REQUIRE(fs);
        octo_phrasebook *pb = octo_phrasebook_load("phrasings", fs);
        REQUIRE(pb);
        for (int f = 0; f < fs->n; f++) {
            cJSON *args = sample_args(fs, pb, f, 5);
            CHECKF(args != NULL, "%s.%s: no generated call", sets[s], fs->fns[f].name);
            if (!args) continue;
            char *obs = NULL;
            int rc = octo_handler_run(&fs->fns[f], args, &obs);
            CHECKF(rc == 0 && obs && one_line(obs) && strstr(obs, "not carried out"), "%s.%s: %s", sets[s],
                   fs->fns[f].name, obs ? obs : octo_last_error());
            free(obs);
            cJSON_Delete(args);
        }
        /* one JSON line per call, each parses */
        char log[800];
        snprintf(log, sizeof log, "%s/%s.log", g_state, sets[s]);
        size_t n;
        char *text = octo_read_file(log, &n);
        REQUIRE(text);
        int lines = 0;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
            cJSON *j = cJSON_Parse(line);
            CHECKF(j && cJSON_IsObject(cJSON_GetObjectItem(j, "arguments")), "bad log line %s", line);
            cJSON_Delete(j);
            lines++;
        }
        CHECK(lines == fs->n);
        free(text);
        octo_phrasebook_free(pb);
        octo_funcset_free(fs);
    }
}

int main(void) {
    struct stat st;
    if (stat("functions/android.json", &st) != 0) {
        fprintf(stderr, "run from the repository root (functions/ needed)\n");
        return 1;
    }
    if (system("command -v sh >/dev/null 2>&1") != 0) {
        printf("0 passed, 0 failed, 1 skipped\n");
        return 0;
    }
    snprintf(g_state, sizeof g_state, "%s/state", t_tmpdir());
    snprintf(g_home, sizeof g_home, "%s/home", t_tmpdir());
    mkdir(g_home, 0755);
    mkdir(g_state, 0755);
    setenv("OCTO_STATE_DIR", g_state, 1);
    setenv("HOME", g_home, 1);
    unsetenv("OCTO_ALLOW_RADIO");
    unsetenv("OCTO_ONLINE");
    unsetenv("OCTO_SEND_MAIL");
    unsetenv("DISPLAY");
    unsetenv("WAYLAND_DISPLAY");
    setenv("OCTO_HANDLERS", "linux", 1);
    RUN(android_handlers_run);
    RUN(android_files_are_real);
    RUN(hostile_values_stay_data);
    RUN(offline_service_handlers_log);
    return t_finish();
}
