/*
 * test_redact.c - credentials in build output are masked before anything
 * is stored; ordinary text is left alone.
 */
#include <stdlib.h>

#include "unit.h"

void test_redact(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "#5 [2/3] RUN echo hunter2 | docker login -u ci -p hunter2 registry.example.com",
		  "#5 [2/3] RUN echo hunter2 | docker login -u ci -p *** registry.example.com" },
		{ "RUN docker login --username ci --password=s3cr3t reg", "RUN docker login --username ci --password=*** reg" },
		{ "RUN docker login --password-stdin reg", "RUN docker login --password-stdin reg" },
		{ "RUN git clone https://ci-bot:glpat-XYZ123@gitlab.example.com/g/p.git",
		  "RUN git clone https://ci-bot:***@gitlab.example.com/g/p.git" },
		{ "RUN git clone https://gitlab.example.com/g/p.git", "RUN git clone https://gitlab.example.com/g/p.git" },
		{ "RUN curl -H \"Authorization: Bearer eyJhbGci.x.y\" https://api", "RUN curl -H \"Authorization: ***\" https://api" },
		{ "RUN curl -H 'PRIVATE-TOKEN: glpat-abc' https://gitlab", "RUN curl -H 'PRIVATE-TOKEN: ***' https://gitlab" },
		{ "token=$(cat /run/secrets/x) && curl -H \"Bearer abc123\"", "token=$(cat /run/secrets/x) && curl -H \"Bearer ***\"" },
		{ "ENV NPM_TOKEN=npm_abcdef GITHUB_TOKEN=\"ghp_123\" PATH=/usr/bin",
		  "ENV NPM_TOKEN=*** GITHUB_TOKEN=\"***\" PATH=/usr/bin" },
		{ "RUN DB_PASSWORD=pw1 ./migrate && echo $DB_PASSWORD", "RUN DB_PASSWORD=*** ./migrate && echo $DB_PASSWORD" },
		{ "ARG NPM_TOKEN=$CI_TOKEN", "ARG NPM_TOKEN=$CI_TOKEN" },
		{ "#8 0.41 fetched libalpha==1.2", "#8 0.41 fetched libalpha==1.2" },
		/* inside a rawjson line the JSON escapes survive */
		{ "{\"name\":\"RUN curl -H \\\"Authorization: Bearer abc\\\" x\"}",
		  "{\"name\":\"RUN curl -H \\\"Authorization: ***\\\" x\"}" },
		/* each gate word in any case, after letters that start it falsely */
		{ "RUN curl -H 'X-Api-Key: k123' -H 'Accept: a' https://api",
		  "RUN curl -H 'X-Api-Key: ***' -H 'Accept: a' https://api" },
		{ "RUN curl -H 'AUTHORIZATION: Basic dXNlcg==' https://api", "RUN curl -H 'AUTHORIZATION: ***' https://api" },
		{ "RUN tar -x && aws_Secret_access_key=AKIA1 ./up", "RUN tar -x && aws_Secret_access_key=*** ./up" },
		{ "RUN pass=1 ptr=2 DB_PASSWD=pw9 ./m", "RUN pass=1 ptr=2 DB_PASSWD=*** ./m" },
		{ "RUN t=1 to=2 apitoken=abc ./m", "RUN t=1 to=2 apitoken=*** ./m" },
		{ "ab", "ab" },
		{ "=", "=" },
	};
	size_t i;

	for (i = 0; i < BP_ARRAY_SIZE(cases); i++) {
		char *s = xstrdup(cases[i].in);
		bp_redact(s);
		CHECK_STR(s, cases[i].out);
		free(s);
	}
}
