/*
 * A stand-in for bmssim's control socket (control protocol v1), for testing bmsviz's drawing
 * and input without an emulator: it plays a script of lines to each client and answers its
 * requests.
 *
 *   fakectl --socket PATH --script FILE [--log FILE] [--refuse CMD] [--duration-s N]
 *
 * FILE holds lines sent verbatim, one every --period-ms (default 50) once the client has
 * subscribed: state, frame or expect events, or garbage. The last well-formed state event is
 * repeated after the script ends and answers "get". Every request line is appended to --log;
 * requests whose "cmd" is --refuse get ok:false. Clients are served one after another.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

struct script {
	char **line;
	size_t n;
};

static const char *log_path, *refuse;
static int period_ms = 50;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int load(const char *path, struct script *s)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return -1;
	while ((n = getline(&line, &cap, f)) >= 0) {
		char **grown = realloc(s->line, (s->n + 1) * sizeof *grown);
		if (!grown)
			break;
		s->line = grown;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = 0;
		s->line[s->n++] = strdup(line);
	}
	free(line);
	fclose(f);
	return 0;
}

static int send_line(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return send(fd, "\n", 1, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* The "state" member of a state event line, or NULL. */
static cJSON *state_of(const char *line)
{
	cJSON *o = cJSON_Parse(line), *st;
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "event");

	if (!cJSON_IsString(ev) || strcmp(ev->valuestring, "state") ||
	    !cJSON_IsObject(st = cJSON_GetObjectItemCaseSensitive(o, "state"))) {
		cJSON_Delete(o);
		return NULL;
	}
	st = cJSON_DetachItemFromObjectCaseSensitive(o, "state");
	cJSON_Delete(o);
	return st;
}

static int answer(int fd, const char *req, const cJSON *state, int *subscribed)
{
	cJSON *in = cJSON_Parse(req), *out = cJSON_CreateObject();
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(in, "cmd");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(in, "id");
	const char *c = cJSON_IsString(cmd) ? cmd->valuestring : "";
	char *s;
	int rc;

	if (log_path) {
		FILE *f = fopen(log_path, "a");
		if (f) {
			fprintf(f, "%s\n", req);
			fclose(f);
		}
	}
	if (id)
		cJSON_AddItemToObject(out, "id", cJSON_Duplicate(id, 1));
	if (refuse && !strcmp(c, refuse)) {
		cJSON_AddFalseToObject(out, "ok");
		cJSON_AddStringToObject(out, "error", "refused by the fake on purpose");
	} else if (!strcmp(c, "hello")) {
		cJSON_AddTrueToObject(out, "ok");
		cJSON_AddNumberToObject(out, "protocol", 1);
		cJSON_AddStringToObject(out, "program", "bmssim");
		cJSON_AddStringToObject(out, "mode", "serve");
		cJSON_AddNumberToObject(out, "units", 1);
	} else if (!strcmp(c, "get")) {
		cJSON_AddTrueToObject(out, "ok");
		if (state)
			cJSON_AddItemToObject(out, "state", cJSON_Duplicate(state, 1));
	} else {
		if (!strcmp(c, "subscribe"))
			*subscribed = 1;
		cJSON_AddTrueToObject(out, "ok");
		if (!strcmp(c, "rate"))
			cJSON_AddNumberToObject(out, "rate", 2);
	}
	s = cJSON_PrintUnformatted(out);
	rc = s ? send_line(fd, s) : -1;
	free(s);
	cJSON_Delete(out);
	cJSON_Delete(in);
	return rc;
}

/* One client: requests in, script lines out, until it leaves or the time is up. */
static void serve(int fd, const struct script *sc, long long end)
{
	char buf[65536];
	size_t len = 0, next = 0;
	cJSON *state = NULL;
	int subscribed = 0;
	long long due = 0;

	while (now_ms() < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, 10);
		char *nl;

		if (r > 0) {
			ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
			if (n <= 0)
				break;
			len += (size_t)n;
			while ((nl = memchr(buf, '\n', len))) {
				*nl = 0;
				if (answer(fd, buf, state, &subscribed) < 0)
					goto out;
				len -= (size_t)(nl + 1 - buf);
				memmove(buf, nl + 1, len);
			}
			if (len == sizeof buf - 1)
				len = 0;
		}
		if (subscribed && now_ms() >= due) {
			const char *line = NULL;
			due = now_ms() + period_ms;
			if (next < sc->n) {
				cJSON *st = state_of(sc->line[next]);
				line = sc->line[next++];
				if (st) {
					cJSON_Delete(state);
					state = st;
				}
			}
			if (line && send_line(fd, line) < 0)
				break;
			if (!line && state) {
				cJSON *ev = cJSON_CreateObject();
				char *s;
				cJSON_AddStringToObject(ev, "event", "state");
				cJSON_AddItemToObject(ev, "state", cJSON_Duplicate(state, 1));
				s = cJSON_PrintUnformatted(ev);
				cJSON_Delete(ev);
				if (!s || send_line(fd, s) < 0) {
					free(s);
					break;
				}
				free(s);
			}
		}
	}
out:
	cJSON_Delete(state);
	close(fd);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' }, { "script", required_argument, NULL, 'f' },
		{ "log", required_argument, NULL, 'l' }, { "refuse", required_argument, NULL, 'r' },
		{ "duration-s", required_argument, NULL, 'd' }, { "period-ms", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL, *script = NULL;
	struct script sc = { NULL, 0 };
	struct sockaddr_un sa;
	long long end;
	int c, lfd, duration = 20;
	size_t i;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'f': script = optarg; break;
		case 'l': log_path = optarg; break;
		case 'r': refuse = optarg; break;
		case 'd': duration = atoi(optarg); break;
		case 'p': period_ms = atoi(optarg); break;
		default: return 2;
		}
	}
	if (!path || !script || strlen(path) >= sizeof sa.sun_path || load(script, &sc) < 0) {
		fprintf(stderr, "fakectl: usage: --socket PATH --script FILE [--log FILE] [--refuse CMD]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4) < 0) {
		fprintf(stderr, "fakectl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	end = now_ms() + duration * 1000LL;
	while (now_ms() < end) {
		struct pollfd p = { lfd, POLLIN, 0 };
		if (poll(&p, 1, 100) > 0) {
			int fd = accept(lfd, NULL, NULL);
			if (fd >= 0)
				serve(fd, &sc, end);
		}
	}
	close(lfd);
	unlink(path);
	for (i = 0; i < sc.n; i++)
		free(sc.line[i]);
	free(sc.line);
	return 0;
}
