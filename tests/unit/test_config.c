/*
 * test_config.c — the config of docs/config.md, one table row per key, default and
 * error class. A row is JSON text and either the error code with a piece of
 * the message (which must name the key), or field = value checks on the
 * parsed config. Fields are rendered as text (render()) so a row reads like
 * the config it checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "codes.h"
#include "config.h"
#include "mpic.h"

typedef struct {
	const char *field; /* see render() */
	const char *value;
} want_t;

typedef struct {
	const char *what;
	const char *json;
	int code;
	const char *msg;    /* error: a piece of the message */
	const want_t *want; /* success: checks, ending with {NULL} */
} row_t;

/* clang-format off */
#define OK(what, json, ...) {what, json, CAA_EOK, NULL, (const want_t[]){__VA_ARGS__, {NULL, NULL}}}
#define ERR(what, json, msg) {what, json, CAA_ECONFIG, msg, NULL}
#define RREDIS "{\"cache\": {\"backend\": \"redis\", \"redis\": {\"address\": \"127.0.0.1:6379\", \"key_file\": \"/k\""

#define DEFAULT_LABELS "ca-tbr-7=dns-01+dns-account-01;ca-tbr-19=http-01;ca-tbr-20=tls-alpn-01"
#define REMOTE(n, r) "{\"name\": \"" n "\", \"rir\": \"" r "\", \"address\": \"" n ".example:443\"}"
#define L63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define THREE REMOTE("r1", "RIPE") "," REMOTE("r2", "ARIN") "," REMOTE("r3", "APNIC")

static const row_t rows[] = {
	/* defaults (config.h, docs/semantics.md) */
	OK("{} gives every default", "{}",
	   {"listen", "127.0.0.1:8053"}, {"tls.cert", "(null)"}, {"tls.key", "(null)"},
	   {"tls.client_ca", "(null)"}, {"metrics_listen", "(null)"}, {"issuer_domains", ""},
	   {"account_uri_prefixes", ""}, {"recheck_window_ms", "25200000"},
	   {"max_in_flight", "10000"}, {"dns.unbound_conf", "(null)"}, {"dns.timeout_ms", "10000"},
	   {"dns.query_timeout_ms", "3000"}, {"dns.retries", "2"},
	   {"dns.trust_anchor_file", "(null)"}, {"dns.max_per_zone", "16"},
	   {"policy.name", ""}, {"policy.critical", "unknown"}, {"policy.flag1_is_critical", "true"},
	   {"policy.tld_nxdomain", "error"}, {"policy.nodata_without_soa", "empty"},
	   {"policy.insecure_lookup_failure_permits", "false"},
	   {"policy.boulder_recheck_types", "false"}, {"policy.method_labels", "(default)"},
	   {"n_profiles", "0"}, {"cache.backend", "memory"}, {"cache.max_entries", "1000000"},
	   {"perspective.name", "primary"}, {"perspective.rir", ""},
	   {"perspective.remotes", ""}, {"perspective.min_remotes", "0"}, /* "br" */
	   {"perspective.remote_timeout_ms", "5000"}),
	OK("whitespace around the object", " \n\t{ }\n", {"listen", "127.0.0.1:8053"}),

	/* listen, metrics_listen */
	OK("listen host:port", "{\"listen\": \"0.0.0.0:443\"}", {"listen", "0.0.0.0:443"}),
	OK("listen [v6]:port", "{\"listen\": \"[::]:8053\"}", {"listen", "[::]:8053"}),
	OK("listen unix socket", "{\"listen\": \"unix:/run/caad.sock\"}",
	   {"listen", "unix:/run/caad.sock"}),
	ERR("listen without port", "{\"listen\": \"localhost\"}",
	    "listen: expected \"host:port\" or \"unix:path\", got \"localhost\""),
	ERR("listen port too big", "{\"listen\": \"a:65536\"}", "listen: expected \"host:port\""),
	ERR("listen empty", "{\"listen\": \"\"}", "listen: expected a non-empty string, got \"\""),
	ERR("listen a number", "{\"listen\": 8053}", "listen: expected a non-empty string, got 8053"),
	ERR("listen null", "{\"listen\": null}", "listen: expected a non-empty string, got null"),
	ERR("listen unclosed bracket", "{\"listen\": \"[::1:80\"}", "listen: expected \"host:port\""),
	ERR("listen with a space", "{\"listen\": \"my host:80\"}", "listen: expected \"host:port\""),
	ERR("listen without host", "{\"listen\": \":80\"}", "listen: expected \"host:port\""),
	ERR("listen port not a number", "{\"listen\": \"a:http\"}", "listen: expected \"host:port\""),
	OK("metrics_listen", "{\"metrics_listen\": \"127.0.0.1:9153\"}",
	   {"metrics_listen", "127.0.0.1:9153"}),
	ERR("metrics_listen false", "{\"metrics_listen\": false}",
	    "metrics_listen: expected a non-empty string, got false"),
	ERR("metrics_listen bad", "{\"metrics_listen\": \"9153\"}", "metrics_listen: expected"),

	/* http, webhooks (docs/config.md, docs/integrations.md) */
	OK("http with mTLS",
	   "{\"http\": {\"listen\": \"127.0.0.1:8443\", \"tls\": {\"cert\": \"/c.pem\", "
	   "\"key\": \"/k.pem\", \"client_ca\": \"/ca.pem\"}}}",
	   {"http.listen", "127.0.0.1:8443"}, {"http.tls.cert", "/c.pem"},
	   {"http.tls.client_ca", "/ca.pem"}, {"webhooks", ""}),
	OK("http plain", "{\"http\": {\"listen\": \"[::1]:8080\"}}",
	   {"http.listen", "[::1]:8080"}, {"http.tls.cert", "(null)"}),
	ERR("http without listen", "{\"http\": {}}", "http.listen: missing"),
	ERR("http unknown key", "{\"http\": {\"listen\": \"127.0.0.1:1\", \"port\": 1}}", "http.port"),
	ERR("http.listen bad", "{\"http\": {\"listen\": \"8443\"}}", "http.listen: expected"),
	ERR("http.tls.key without cert", "{\"http\": {\"listen\": \"127.0.0.1:1\", \"tls\": {\"key\": \"/k\"}}}",
	    "http.tls.key: set without http.tls.cert"),
	ERR("http.tls.client_names", "{\"http\": {\"listen\": \"127.0.0.1:1\", \"tls\": {\"cert\": \"/c\", "
	    "\"key\": \"/k\", \"client_ca\": \"/ca\", \"client_names\": [\"a.example\"]}}}",
	    "http.tls.client_names: not supported"),
	OK("webhooks", "{\"http\": {\"listen\": \"127.0.0.1:1\"}, \"profiles\": {\"p\": {}}, "
	   "\"webhooks\": [{\"name\": \"caa\", \"secret_file\": \"/s\"}, {\"name\": \"b\", "
	   "\"secret_file\": \"/t\", \"policy\": \"p\", \"validation_method\": \"dns-01\", "
	   "\"account_uri\": \"https://ca.example/acct/1\"}]}",
	   {"webhooks", "caa//s///,b//t/p/dns-01/https://ca.example/acct/1"}),
	ERR("webhooks without http", "{\"webhooks\": [{\"name\": \"caa\", \"secret_file\": \"/s\"}]}",
	    "webhooks: needs http.listen"),
	ERR("webhook without secret_file", "{\"http\": {\"listen\": \"127.0.0.1:1\"}, "
	    "\"webhooks\": [{\"name\": \"caa\"}]}", "webhooks[0].secret_file: missing"),
	ERR("webhook name", "{\"http\": {\"listen\": \"127.0.0.1:1\"}, "
	    "\"webhooks\": [{\"name\": \"a/b\", \"secret_file\": \"/s\"}]}", "webhooks[0].name: expected"),
	ERR("webhook names twice", "{\"http\": {\"listen\": \"127.0.0.1:1\"}, \"webhooks\": ["
	    "{\"name\": \"a\", \"secret_file\": \"/s\"}, {\"name\": \"a\", \"secret_file\": \"/s\"}]}",
	    "webhooks[1].name: \"a\" is also webhooks[0].name"),
	ERR("webhook unknown profile", "{\"http\": {\"listen\": \"127.0.0.1:1\"}, \"webhooks\": ["
	    "{\"name\": \"a\", \"secret_file\": \"/s\", \"policy\": \"nope\"}]}",
	    "webhooks[0].policy: no profile named \"nope\""),
	ERR("webhook method", "{\"http\": {\"listen\": \"127.0.0.1:1\"}, \"webhooks\": ["
	    "{\"name\": \"a\", \"secret_file\": \"/s\", \"validation_method\": \"dns 01\"}]}",
	    "webhooks[0].validation_method: expected"),
	ERR("webhook unknown key", "{\"http\": {\"listen\": \"127.0.0.1:1\"}, \"webhooks\": ["
	    "{\"name\": \"a\", \"secret_file\": \"/s\", \"secret\": \"x\"}]}",
	    "webhooks[0].secret"),
	ERR("webhooks not an array", "{\"webhooks\": {}}", "webhooks: expected an array"),

	/* tls */
	OK("tls with mTLS",
	   "{\"tls\": {\"cert\": \"/c.pem\", \"key\": \"/k.pem\", \"client_ca\": \"/ca.pem\"}}",
	   {"tls.cert", "/c.pem"}, {"tls.key", "/k.pem"}, {"tls.client_ca", "/ca.pem"}),
	OK("tls without client_ca", "{\"tls\": {\"cert\": \"/c.pem\", \"key\": \"/k.pem\"}}",
	   {"tls.cert", "/c.pem"}, {"tls.client_ca", "(null)"}),
	ERR("tls.key without cert", "{\"tls\": {\"key\": \"/k.pem\"}}", "tls.key: set without tls.cert"),
	ERR("tls.cert without key", "{\"tls\": {\"cert\": \"/c.pem\"}}", "tls.cert: set without tls.key"),
	ERR("tls.client_ca alone", "{\"tls\": {\"client_ca\": \"/ca.pem\"}}",
	    "tls.client_ca: mTLS needs tls.cert"),
	ERR("tls.cert empty", "{\"tls\": {\"cert\": \"\", \"key\": \"/k\"}}",
	    "tls.cert: expected a non-empty string"),
	ERR("tls.ca is for remotes", "{\"tls\": {\"ca\": \"/ca.pem\"}}", "unknown key \"tls.ca\""),
	ERR("tls not an object", "{\"tls\": true}", "tls: expected an object, got true"),

	/* tls.client_names */
#define MTLS "\"cert\": \"/c.pem\", \"key\": \"/k.pem\", \"client_ca\": \"/ca.pem\""
	OK("tls.client_names DNS lowercased and URIs kept",
	   "{\"tls\": {" MTLS ", \"client_names\": [\"RA.CA.Example\", "
	   "\"spiffe://ca.example/ra\", \"urn:caa:Primary\"]}}",
	   {"tls.client_names", "ra.ca.example,spiffe://ca.example/ra,urn:caa:Primary"}),
	OK("tls.client_names absent", "{\"tls\": {" MTLS "}}", {"tls.client_names", ""}),
	ERR("tls.client_names without client_ca",
	    "{\"tls\": {\"cert\": \"/c.pem\", \"key\": \"/k.pem\", \"client_names\": [\"ra.example\"]}}",
	    "tls.client_names: needs tls.client_ca"),
	ERR("tls.client_names alone", "{\"tls\": {\"client_names\": [\"ra.example\"]}}",
	    "tls.client_names: needs tls.client_ca"),
	ERR("tls.client_names empty", "{\"tls\": {" MTLS ", \"client_names\": []}}",
	    "tls.client_names: empty; list at least one name"),
	ERR("tls.client_names a string", "{\"tls\": {" MTLS ", \"client_names\": \"ra.example\"}}",
	    "tls.client_names: expected an array of strings, got \"ra.example\""),
	ERR("tls.client_names empty string", "{\"tls\": {" MTLS ", \"client_names\": [\"\"]}}",
	    "tls.client_names[0]: expected a non-empty string, got \"\""),
	ERR("tls.client_names a number", "{\"tls\": {" MTLS ", \"client_names\": [\"a.example\", 7]}}",
	    "tls.client_names[1]: expected a non-empty string, got 7"),
	ERR("tls.client_names wildcard", "{\"tls\": {" MTLS ", \"client_names\": [\"*.ca.example\"]}}",
	    "tls.client_names[0]: \"*.ca.example\" is not a hostname"),
	ERR("tls.client_names space", "{\"tls\": {" MTLS ", \"client_names\": [\"ra example\"]}}",
	    "tls.client_names[0]: \"ra example\" is not a hostname"),
	ERR("tls.client_names trailing dot", "{\"tls\": {" MTLS ", \"client_names\": [\"ra.example.\"]}}",
	    "tls.client_names[0]: \"ra.example.\" has a trailing dot"),
	ERR("tls.client_names bad URI", "{\"tls\": {" MTLS ", \"client_names\": [\"spiffe:\"]}}",
	    "tls.client_names[0]: \"spiffe:\" is neither a DNS name nor a URI"),
	ERR("tls.client_names URI with a space",
	    "{\"tls\": {" MTLS ", \"client_names\": [\"urn:a b\"]}}",
	    "tls.client_names[0]: \"urn:a b\" is neither a DNS name nor a URI"),
	ERR("tls.client_names repeated (case)",
	    "{\"tls\": {" MTLS ", \"client_names\": [\"ra.example\", \"RA.example\"]}}",
	    "tls.client_names[1]: \"RA.example\" repeats tls.client_names[0]"),
	ERR("remote tls.client_names",
	    "{\"perspective\": {\"remotes\": [{\"name\": \"a\", \"rir\": \"RIPE\", \"address\": \"a:1\","
	    " \"tls\": {\"client_names\": [\"ra.example\"]}}]}}",
	    "perspective.remotes[0].tls.client_names: a remote has no clients"),
#undef MTLS

	/* issuer_domains, account_uri_prefixes */
	OK("issuer domains lowercased", "{\"issuer_domains\": [\"CA.Example\", \"ca2.example\"]}",
	   {"issuer_domains", "ca.example,ca2.example"},
	   {"policy.issuer_domains", "ca.example,ca2.example"}),
	OK("issuer domain xn-- and digits", "{\"issuer_domains\": [\"xn--bcher-kva.example\", \"1ca.example\"]}",
	   {"issuer_domains", "xn--bcher-kva.example,1ca.example"}),
	OK("no issuer domains", "{\"issuer_domains\": []}", {"issuer_domains", ""}),
	ERR("issuer domain with trailing dot", "{\"issuer_domains\": [\"ca.example.\"]}",
	    "issuer_domains[0]: \"ca.example.\" has a trailing dot"),
	ERR("issuer domain empty", "{\"issuer_domains\": [\"ca.example\", \"\"]}",
	    "issuer_domains[1]: expected a non-empty string"),
	ERR("issuer domain underscore", "{\"issuer_domains\": [\"ca_1.example\"]}",
	    "issuer_domains[0]: \"ca_1.example\" is not a hostname"),
	ERR("issuer domain leading hyphen", "{\"issuer_domains\": [\"-ca.example\"]}",
	    "issuer_domains[0]: \"-ca.example\" has a label starting with '-'"),
	ERR("issuer domain empty label", "{\"issuer_domains\": [\"ca..example\"]}",
	    "issuer_domains[0]: \"ca..example\" has an empty label"),
	ERR("issuer domain 64-octet label",
	    "{\"issuer_domains\": [\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example\"]}",
	    "longer than 63 octets"),
	ERR("issuer domain repeated (case-folded)", "{\"issuer_domains\": [\"ca.example\", \"CA.example\"]}",
	    "issuer_domains[1]: \"CA.example\" repeats issuer_domains[0]"),
	ERR("issuer domain label ending with '-'", "{\"issuer_domains\": [\"ca-.example\"]}",
	    "issuer_domains[0]: \"ca-.example\" has a label ending with '-'"),
	ERR("issuer domain longer than 253", "{\"issuer_domains\": [\"" L63 "." L63 "." L63 "." L63 "\"]}",
	    "issuer_domains[0]: \"aaaa"),
	ERR("issuer domain uppercase kept in the message", "{\"issuer_domains\": [\"CA.example.\"]}",
	    "issuer_domains[0]: \"CA.example.\" has a trailing dot"),
	ERR("issuer_domains a string", "{\"issuer_domains\": \"ca.example\"}",
	    "issuer_domains: expected an array of strings, got \"ca.example\""),
	ERR("issuer_domains holds a number", "{\"issuer_domains\": [1]}",
	    "issuer_domains[0]: expected a non-empty string, got 1"),
	OK("account_uri_prefixes",
	   "{\"account_uri_prefixes\": [\"https://ca.example/acme/acct/\", \"https://ca.example/acct/\"]}",
	   {"account_uri_prefixes", "https://ca.example/acme/acct/,https://ca.example/acct/"},
	   {"policy.account_uri_prefixes", "https://ca.example/acme/acct/,https://ca.example/acct/"}),
	ERR("account_uri_prefixes not a URI", "{\"account_uri_prefixes\": [\"ca.example/acct\"]}",
	    "account_uri_prefixes[0]: \"ca.example/acct\" is not a URI"),
	ERR("account_uri_prefixes scheme only", "{\"account_uri_prefixes\": [\"https:\"]}",
	    "account_uri_prefixes[0]: \"https:\" is not a URI"),
	ERR("account_uri_prefixes scheme starts with a digit", "{\"account_uri_prefixes\": [\"1https://a/\"]}",
	    "account_uri_prefixes[0]"),
	ERR("account_uri_prefixes with a space", "{\"account_uri_prefixes\": [\"https://a b/\"]}",
	    "account_uri_prefixes[0]"),
	/* id 23 under ".../acct/1" would be id 123 under ".../acct/" */
	ERR("account_uri_prefixes one a prefix of another",
	    "{\"account_uri_prefixes\": [\"https://ca.example/acct/\", \"https://ca.example/acct/1\"]}",
	    "account_uri_prefixes[1]: \"https://ca.example/acct/1\" overlaps "
	    "account_uri_prefixes[0] \"https://ca.example/acct/\""),
	ERR("account_uri_prefixes one a prefix of another, longer first",
	    "{\"account_uri_prefixes\": [\"https://a/\", \"https://ca.example/acct/1\", \"https://ca.example/acct/\"]}",
	    "account_uri_prefixes[2]: \"https://ca.example/acct/\" overlaps "
	    "account_uri_prefixes[1] \"https://ca.example/acct/1\""),
	OK("account_uri_prefixes sharing a start only",
	   "{\"account_uri_prefixes\": [\"https://ca.example/acct/1/\", \"https://ca.example/acct/10/\"]}",
	   {"account_uri_prefixes", "https://ca.example/acct/1/,https://ca.example/acct/10/"}),

	/* durations */
	OK("duration ms", "{\"recheck_window\": \"500ms\"}", {"recheck_window_ms", "500"}),
	OK("duration s", "{\"recheck_window\": \"10s\"}", {"recheck_window_ms", "10000"}),
	OK("duration m", "{\"recheck_window\": \"5m\"}", {"recheck_window_ms", "300000"}),
	OK("duration h", "{\"recheck_window\": \"7h\"}", {"recheck_window_ms", "25200000"}),
	OK("recheck_window 0s: never reuse", "{\"recheck_window\": \"0s\"}", {"recheck_window_ms", "0"}),
	OK("recheck_window the BR maximum", "{\"recheck_window\": \"480m\"}",
	   {"recheck_window_ms", "28800000"}),
	ERR("recheck_window over 8h", "{\"recheck_window\": \"9h\"}",
	    "recheck_window: must be at most 8h, got \"9h\""),
	ERR("duration without unit", "{\"recheck_window\": \"10\"}",
	    "recheck_window: expected a duration like \"10s\""),
	ERR("duration in days", "{\"recheck_window\": \"10d\"}", "recheck_window: expected a duration"),
	ERR("negative duration", "{\"recheck_window\": \"-1s\"}", "recheck_window: expected a duration"),
	ERR("fractional duration", "{\"recheck_window\": \"1.5s\"}", "recheck_window: expected a duration"),
	ERR("duration with a space", "{\"recheck_window\": \"10 s\"}", "recheck_window: expected a duration"),
	ERR("duration uppercase unit", "{\"recheck_window\": \"10S\"}", "recheck_window: expected a duration"),
	ERR("duration empty", "{\"recheck_window\": \"\"}", "recheck_window: expected a duration"),
	ERR("duration as a number", "{\"recheck_window\": 10}",
	    "recheck_window: expected a duration like \"10s\", got 10"),
	ERR("duration overflows uint64", "{\"dns\": {\"timeout\": \"18446744073709552h\"}}",
	    "dns.timeout: expected a duration"),
	ERR("duration digits overflow", "{\"dns\": {\"timeout\": \"99999999999999999999ms\"}}",
	    "dns.timeout: expected a duration"),
	ERR("duration in words", "{\"dns\": {\"timeout\": \"ten\"}}",
	    "dns.timeout: expected a duration like \"10s\", got \"ten\""),

	/* max_in_flight */
	OK("max_in_flight", "{\"max_in_flight\": 1}", {"max_in_flight", "1"}),
	ERR("max_in_flight 0", "{\"max_in_flight\": 0}",
	    "max_in_flight: expected an integer from 1 to 10000000, got 0"),
	ERR("max_in_flight negative", "{\"max_in_flight\": -5}", "max_in_flight: expected an integer"),
	ERR("max_in_flight a string", "{\"max_in_flight\": \"100\"}", "max_in_flight: expected an integer"),
	ERR("max_in_flight a real", "{\"max_in_flight\": 1.5}", "max_in_flight: expected an integer"),
	ERR("max_in_flight 1.0 is a real", "{\"max_in_flight\": 1.0}",
	    "max_in_flight: expected an integer from 1 to 10000000, got 1.0"),
	ERR("max_in_flight too big", "{\"max_in_flight\": 10000001}", "max_in_flight: expected an integer"),

	/* dns */
	OK("dns, every key",
	   "{\"dns\": {\"unbound_conf\": \"/etc/caad/unbound.conf\", \"timeout\": \"20s\","
	   " \"query_timeout\": \"4s\", \"retries\": 3, \"trust_anchor_file\": \"/var/lib/caad/root.key\","
	   " \"max_per_zone\": 8}}",
	   {"dns.unbound_conf", "/etc/caad/unbound.conf"}, {"dns.timeout_ms", "20000"},
	   {"dns.query_timeout_ms", "4000"}, {"dns.retries", "3"},
	   {"dns.trust_anchor_file", "/var/lib/caad/root.key"}, {"dns.max_per_zone", "8"}),
	OK("short dns.timeout shortens the default query_timeout", "{\"dns\": {\"timeout\": \"2s\"}}",
	   {"dns.timeout_ms", "2000"}, {"dns.query_timeout_ms", "2000"}),
	OK("query_timeout equal to timeout", "{\"dns\": {\"timeout\": \"3s\", \"query_timeout\": \"3000ms\"}}",
	   {"dns.query_timeout_ms", "3000"}),
	OK("dns.retries 0 and 10", "{\"dns\": {\"retries\": 0}}", {"dns.retries", "0"}),
	OK("dns.retries 10", "{\"dns\": {\"retries\": 10}}", {"dns.retries", "10"}),
	ERR("dns.timeout 0", "{\"dns\": {\"timeout\": \"0s\"}}", "dns.timeout: must be at least 1ms, got \"0s\""),
	ERR("dns.timeout too long", "{\"dns\": {\"timeout\": \"2h\"}}", "dns.timeout: must be at most 1h"),
	ERR("query_timeout longer than timeout", "{\"dns\": {\"timeout\": \"5s\", \"query_timeout\": \"6s\"}}",
	    "dns.query_timeout: 6s is longer than dns.timeout 5s"),
	ERR("query_timeout longer, in minutes", "{\"dns\": {\"timeout\": \"1m\", \"query_timeout\": \"90s\"}}",
	    "dns.query_timeout: 90s is longer than dns.timeout 1m"),
	ERR("query_timeout 0", "{\"dns\": {\"query_timeout\": \"0ms\"}}", "dns.query_timeout: must be at least"),
	ERR("dns.retries 11", "{\"dns\": {\"retries\": 11}}",
	    "dns.retries: expected an integer from 0 to 10, got 11"),
	ERR("dns.retries negative", "{\"dns\": {\"retries\": -1}}", "dns.retries: expected an integer"),
	ERR("dns.retries a bool", "{\"dns\": {\"retries\": true}}", "dns.retries: expected an integer from 0 to 10, got true"),
	ERR("dns.max_per_zone 0", "{\"dns\": {\"max_per_zone\": 0}}", "dns.max_per_zone: expected an integer from 1"),
	OK("dns.max_outstanding default", "{}", {"dns.max_outstanding", "1024"}),
	OK("dns.max_outstanding", "{\"dns\": {\"max_outstanding\": 64}}", {"dns.max_outstanding", "64"}),
	ERR("dns.max_outstanding 0", "{\"dns\": {\"max_outstanding\": 0}}",
	    "dns.max_outstanding: expected an integer from 1 to 65536, got 0"),
	/* one silent zone may hold at most half of libunbound's slots */
	OK("dns.max_per_zone half of max_outstanding", "{\"dns\": {\"max_per_zone\": 512}}",
	   {"dns.max_per_zone", "512"}, {"dns.max_outstanding", "1024"}),
	OK("dns.max_per_zone 8 of 16", "{\"dns\": {\"max_outstanding\": 16, \"max_per_zone\": 8}}",
	   {"dns.max_per_zone", "8"}, {"dns.max_outstanding", "16"}),
	ERR("dns.max_per_zone equal to max_outstanding", "{\"dns\": {\"max_per_zone\": 1024}}",
	    "dns.max_per_zone: 1024 is more than half of dns.max_outstanding 1024"),
	ERR("dns.max_per_zone one past half", "{\"dns\": {\"max_outstanding\": 1024, \"max_per_zone\": 513}}",
	    "dns.max_per_zone: 513 is more than half of dns.max_outstanding 1024"),
	ERR("dns.max_per_zone above max_outstanding", "{\"dns\": {\"max_per_zone\": 64, \"max_outstanding\": 32}}",
	    "dns.max_per_zone: 64 is more than half of dns.max_outstanding 32"),
	ERR("dns.max_outstanding under twice the default zone cap", "{\"dns\": {\"max_outstanding\": 16}}",
	    "dns.max_per_zone: 16 is more than half of dns.max_outstanding 16"),
	ERR("dns.max_outstanding 1", "{\"dns\": {\"max_outstanding\": 1, \"max_per_zone\": 1}}",
	    "dns.max_per_zone: 1 is more than half of dns.max_outstanding 1"),
	ERR("dns.unbound_conf empty", "{\"dns\": {\"unbound_conf\": \"\"}}", "dns.unbound_conf: expected a non-empty string"),
	ERR("dns.trust_anchor_file a list", "{\"dns\": {\"trust_anchor_file\": [\"a\"]}}",
	    "dns.trust_anchor_file: expected a non-empty string, got an array"),
	ERR("nested unknown key with a hint", "{\"dns\": {\"timeot\": \"10s\"}}",
	    "unknown key \"dns.timeot\" (did you mean \"dns.timeout\"?)"),
	ERR("nested unknown key", "{\"dns\": {\"forwarders\": []}}", "unknown key \"dns.forwarders\""),
	ERR("dns not an object", "{\"dns\": []}", "dns: expected an object, got an array"),

	/* policy */
	OK("policy, every knob turned",
	   "{\"policy\": {\"critical\": \"unknown-or-unsupported\", \"flag1_is_critical\": false,"
	   " \"tld_nxdomain\": \"empty\", \"nodata_without_soa\": \"error\","
	   " \"insecure_lookup_failure_permits\": true, \"boulder_recheck_types\": true}}",
	   {"policy.critical", "unknown-or-unsupported"}, {"policy.flag1_is_critical", "false"},
	   {"policy.tld_nxdomain", "empty"}, {"policy.nodata_without_soa", "error"},
	   {"policy.insecure_lookup_failure_permits", "true"},
	   {"policy.boulder_recheck_types", "true"}, {"policy.method_labels", "(default)"}),
	OK("policy with the default values spelled out",
	   "{\"policy\": {\"critical\": \"unknown\", \"tld_nxdomain\": \"error\", \"nodata_without_soa\": \"empty\"}}",
	   {"policy.critical", "unknown"}, {"policy.tld_nxdomain", "error"},
	   {"policy.nodata_without_soa", "empty"}),
	ERR("unknown critical mode", "{\"policy\": {\"critical\": \"all\"}}",
	    "policy.critical: expected \"unknown\" or \"unknown-or-unsupported\", got \"all\""),
	ERR("tld_nxdomain bad", "{\"policy\": {\"tld_nxdomain\": \"maybe\"}}",
	    "policy.tld_nxdomain: expected \"error\" or \"empty\""),
	ERR("nodata_without_soa bad", "{\"policy\": {\"nodata_without_soa\": \"servfail\"}}",
	    "policy.nodata_without_soa: expected \"empty\" or \"error\""),
	ERR("flag1_is_critical a string", "{\"policy\": {\"flag1_is_critical\": \"yes\"}}",
	    "policy.flag1_is_critical: expected true or false, got \"yes\""),
	ERR("insecure_lookup_failure_permits a number", "{\"policy\": {\"insecure_lookup_failure_permits\": 1}}",
	    "policy.insecure_lookup_failure_permits: expected true or false, got 1"),
	ERR("boulder_recheck_types null", "{\"policy\": {\"boulder_recheck_types\": null}}",
	    "policy.boulder_recheck_types: expected true or false"),
	ERR("policy unknown key", "{\"policy\": {\"iodef\": true}}", "unknown key \"policy.iodef\""),
	OK("method_labels replace one label, keep the others",
	   "{\"policy\": {\"method_labels\": {\"ca-tbr-7\": [\"dns-01\"]}}}",
	   {"policy.method_labels", "ca-tbr-7=dns-01;ca-tbr-19=http-01;ca-tbr-20=tls-alpn-01"}),
	OK("method_labels add a label",
	   "{\"policy\": {\"method_labels\": {\"ca-tbr-22\": [\"dns-persist-01\"], \"CA-TBR-19\": [\"http-01\", \"dns-01\"]}}}",
	   {"policy.method_labels",
	    "ca-tbr-7=dns-01+dns-account-01;CA-TBR-19=http-01+dns-01;ca-tbr-20=tls-alpn-01;ca-tbr-22=dns-persist-01"}),
	OK("method_labels an empty list disables a label",
	   "{\"policy\": {\"method_labels\": {\"ca-tbr-20\": []}}}",
	   {"policy.method_labels", "ca-tbr-7=dns-01+dns-account-01;ca-tbr-19=http-01;ca-tbr-20="}),
	OK("method_labels {} is the default mapping", "{\"policy\": {\"method_labels\": {}}}",
	   {"policy.method_labels", DEFAULT_LABELS}),
	ERR("method_labels value not an array", "{\"policy\": {\"method_labels\": {\"ca-tbr-7\": \"dns-01\"}}}",
	    "policy.method_labels.ca-tbr-7: expected an array of strings"),
	ERR("method_labels method not a string", "{\"policy\": {\"method_labels\": {\"ca-tbr-7\": [\"dns-01\", 7]}}}",
	    "policy.method_labels.ca-tbr-7[1]: expected an ACME method like \"dns-01\", got 7"),
	ERR("method_labels method with a space", "{\"policy\": {\"method_labels\": {\"ca-tbr-7\": [\"dns 01\"]}}}",
	    "policy.method_labels.ca-tbr-7[0]: expected an ACME method"),
	ERR("method_labels bad label", "{\"policy\": {\"method_labels\": {\"ca tbr\": [\"dns-01\"]}}}",
	    "policy.method_labels.ca tbr: a label is 1-63 letters, digits and '-'"),
	ERR("method_labels same label twice in another case",
	    "{\"policy\": {\"method_labels\": {\"ca-tbr-7\": [], \"CA-TBR-7\": []}}}",
	    "policy.method_labels.CA-TBR-7: same label as \"ca-tbr-7\""),
	ERR("method_labels an array", "{\"policy\": {\"method_labels\": []}}",
	    "policy.method_labels: expected an object"),
	ERR("top-level typo with a hint", "{\"polcy\": {}}", "unknown key \"polcy\" (did you mean \"policy\"?)"),
	ERR("top-level unknown key", "{\"foo\": 1}", "unknown key \"foo\""),

	/* profiles */
	OK("profile overrides one knob and inherits the rest",
	   "{\"issuer_domains\": [\"ca.example\"], \"account_uri_prefixes\": [\"https://ca.example/acct/\"],"
	   " \"policy\": {\"flag1_is_critical\": false, \"method_labels\": {\"ca-tbr-7\": [\"dns-01\"]}},"
	   " \"profiles\": {\"strict-2023\": {\"critical\": \"unknown-or-unsupported\"}}}",
	   {"n_profiles", "1"}, {"profiles.strict-2023.name", "strict-2023"},
	   {"profiles.strict-2023.critical", "unknown-or-unsupported"},
	   {"profiles.strict-2023.flag1_is_critical", "false"},
	   {"profiles.strict-2023.tld_nxdomain", "error"},
	   {"profiles.strict-2023.issuer_domains", "ca.example"},
	   {"profiles.strict-2023.account_uri_prefixes", "https://ca.example/acct/"},
	   {"profiles.strict-2023.method_labels",
	    "ca-tbr-7=dns-01;ca-tbr-19=http-01;ca-tbr-20=tls-alpn-01"},
	   {"policy.critical", "unknown"}, {"profiles.nope.name", "(no profile)"}),
	OK("profile method_labels merge over the top-level ones",
	   "{\"policy\": {\"method_labels\": {\"ca-tbr-7\": [\"dns-01\"]}},"
	   " \"profiles\": {\"p\": {\"method_labels\": {\"ca-tbr-19\": []}}}}",
	   {"policy.method_labels", "ca-tbr-7=dns-01;ca-tbr-19=http-01;ca-tbr-20=tls-alpn-01"},
	   {"profiles.p.method_labels", "ca-tbr-7=dns-01;ca-tbr-19=;ca-tbr-20=tls-alpn-01"}),
	OK("two profiles, an empty one",
	   "{\"profiles\": {\"lenient\": {\"tld_nxdomain\": \"empty\"}, \"plain\": {}}}",
	   {"n_profiles", "2"}, {"profiles.lenient.tld_nxdomain", "empty"},
	   {"profiles.plain.tld_nxdomain", "error"}, {"profiles.plain.method_labels", "(default)"}),
	ERR("profile knob bad", "{\"profiles\": {\"strict-2023\": {\"critical\": \"yes\"}}}",
	    "profiles.strict-2023.critical: expected \"unknown\" or \"unknown-or-unsupported\""),
	ERR("profile unknown key", "{\"profiles\": {\"p\": {\"critcal\": \"unknown\"}}}",
	    "unknown key \"profiles.p.critcal\" (did you mean \"profiles.p.critical\"?)"),
	ERR("profile holds issuer_domains", "{\"profiles\": {\"p\": {\"issuer_domains\": []}}}",
	    "unknown key \"profiles.p.issuer_domains\""),
	ERR("profile not an object", "{\"profiles\": {\"p\": \"strict\"}}",
	    "profiles.p: expected an object, got \"strict\""),
	ERR("profile name with a space", "{\"profiles\": {\"a b\": {}}}",
	    "profiles.a b: a profile name is 1-64 letters"),
	ERR("profile name empty", "{\"profiles\": {\"\": {}}}", "profiles.: a profile name is"),
	ERR("profiles an array", "{\"profiles\": []}", "profiles: expected an object"),

	/* cache */
	OK("cache", "{\"cache\": {\"backend\": \"memory\", \"max_entries\": 5}}",
	   {"cache.backend", "memory"}, {"cache.max_entries", "5"}),
	OK("cache redis", RREDIS "}}}", {"cache.backend", "redis"},
	   {"cache.redis.address", "127.0.0.1:6379"}, {"cache.redis.key_file", "/k"},
	   {"cache.redis.key_prefix", "caa:"}, {"cache.redis.timeout_ms", "100"},
	   {"cache.redis.db", "0"}),
	OK("cache redis, all keys",
	   RREDIS ", \"password_file\": \"/p\", \"tls\": false, \"key_prefix\": \"x:\", "
	          "\"timeout\": \"250ms\", \"db\": 3}}}",
	   {"cache.redis.password_file", "/p"}, {"cache.redis.key_prefix", "x:"},
	   {"cache.redis.timeout_ms", "250"}, {"cache.redis.db", "3"}),
	OK("cache redis on a unix socket",
	   "{\"cache\": {\"backend\": \"redis\", \"redis\": {\"address\": "
	   "\"unix:/run/redis.sock\", \"key_file\": \"/k\"}}}",
	   {"cache.redis.address", "unix:/run/redis.sock"}),
	ERR("cache redis without its object", "{\"cache\": {\"backend\": \"redis\"}}",
	    "cache.redis: missing (required with cache.backend \"redis\")"),
	ERR("cache redis without key_file",
	    "{\"cache\": {\"backend\": \"redis\", \"redis\": {\"address\": \"h:1\"}}}",
	    "cache.redis.key_file: missing"),
	ERR("cache redis without address", "{\"cache\": {\"backend\": \"redis\", \"redis\": {\"key_file\": \"/k\"}}}",
	    "cache.redis.address: missing"),
	ERR("cache redis object with memory", "{\"cache\": {\"redis\": {}}}",
	    "cache.redis: only with cache.backend \"redis\""),
	ERR("cache redis tls", RREDIS ", \"tls\": true}}}",
	    "cache.redis.tls: TLS to Redis is not supported by this build"),
	ERR("cache redis tls names the tunnel recipe", RREDIS ", \"tls\": true}}}",
	    "point address at a local stunnel to Redis's tls-port (docs/operations.md \"Redis "
	    "over TLS\", deploy/redis-tls/), got true"),
	ERR("cache redis address without port",
	    "{\"cache\": {\"backend\": \"redis\", \"redis\": {\"address\": \"localhost\", \"key_file\": \"/k\"}}}",
	    "cache.redis.address"),
	ERR("cache redis timeout 0", RREDIS ", \"timeout\": \"0ms\"}}}",
	    "cache.redis.timeout: must be at least"),
	ERR("cache redis db", RREDIS ", \"db\": -1}}}", "cache.redis.db: expected an integer"),
	ERR("cache redis unknown key", RREDIS ", \"adress\": 1}}}",
	    "unknown key \"cache.redis.adress\""),
	ERR("cache unknown backend", "{\"cache\": {\"backend\": \"disk\"}}",
	    "cache.backend: expected \"memory\" or \"redis\", got \"disk\""),
	ERR("cache.max_entries 0", "{\"cache\": {\"max_entries\": 0}}",
	    "cache.max_entries: expected an integer from 1"),

	/* perspective */
	OK("perspective with three remotes",
	   "{\"perspective\": {\"name\": \"dc1\", \"rir\": \"ARIN\", \"min_remotes\": 3,"
	   " \"remote_timeout\": \"2s\", \"remotes\": [" REMOTE("r1", "RIPE") ","
	   " {\"name\": \"r2\", \"rir\": \"APNIC\", \"address\": \"dns:///r2.example:443\","
	   "  \"tls\": {\"cert\": \"/c\", \"key\": \"/k\", \"ca\": \"/ca\"}},"
	   REMOTE("r3", "AFRINIC") "]}}",
	   {"perspective.name", "dc1"}, {"perspective.rir", "ARIN"},
	   {"perspective.min_remotes", "3"}, {"perspective.remote_timeout_ms", "2000"},
	   {"perspective.remotes",
	    "r1/RIPE/r1.example:443/-/-/-,r2/APNIC/dns:///r2.example:443//c//k//ca,"
	    "r3/AFRINIC/r3.example:443/-/-/-"}),
	OK("no remotes: single perspective whatever min_remotes", "{\"perspective\": {\"min_remotes\": 5}}",
	   {"perspective.remotes", ""}, {"perspective.min_remotes", "5"}),
	OK("empty remotes list", "{\"perspective\": {\"remotes\": []}}", {"perspective.remotes", ""}),
	OK("two remotes with min_remotes 2",
	   "{\"perspective\": {\"min_remotes\": 2, \"remotes\": [" REMOTE("a", "LACNIC") ","
	   REMOTE("b", "RIPE") "]}}",
	   {"perspective.remotes", "a/LACNIC/a.example:443/-/-/-,b/RIPE/b.example:443/-/-/-"}),
	ERR("fewer remotes than min_remotes",
	    "{\"perspective\": {\"min_remotes\": 3, \"remotes\": [" REMOTE("a", "RIPE") ","
	    REMOTE("b", "ARIN") "]}}",
	    "perspective.min_remotes: 3 remotes required, 2 listed"),
	/* "br": the minimum depends on the date; caad checks it against its clock */
	OK("min_remotes \"br\" spelled out", "{\"perspective\": {\"min_remotes\": \"br\"}}",
	   {"perspective.min_remotes", "0"}),
	OK("min_remotes \"br\" (default) leaves the count to caad's clock",
	   "{\"perspective\": {\"remotes\": [" REMOTE("a", "RIPE") "," REMOTE("b", "ARIN") "]}}",
	   {"perspective.min_remotes", "0"},
	   {"perspective.remotes", "a/RIPE/a.example:443/-/-/-,b/ARIN/b.example:443/-/-/-"}),
	OK("min_remotes 64", "{\"perspective\": {\"min_remotes\": 64}}",
	   {"perspective.min_remotes", "64"}),
	ERR("min_remotes \"BR\"", "{\"perspective\": {\"min_remotes\": \"BR\"}}",
	    "perspective.min_remotes: expected \"br\" or an integer from 1 to 64, got \"BR\""),
	ERR("min_remotes \"5\"", "{\"perspective\": {\"min_remotes\": \"5\"}}",
	    "perspective.min_remotes: expected \"br\" or an integer from 1 to 64, got \"5\""),
	ERR("min_remotes 65", "{\"perspective\": {\"min_remotes\": 65}}",
	    "perspective.min_remotes: expected \"br\" or an integer from 1 to 64, got 65"),
	ERR("min_remotes -1", "{\"perspective\": {\"min_remotes\": -1}}",
	    "perspective.min_remotes: expected \"br\" or an integer from 1 to 64, got -1"),
	ERR("min_remotes 4.0", "{\"perspective\": {\"min_remotes\": 4.0}}",
	    "perspective.min_remotes: expected \"br\" or an integer from 1 to 64"),
	ERR("min_remotes null", "{\"perspective\": {\"min_remotes\": null}}",
	    "perspective.min_remotes: expected \"br\" or an integer from 1 to 64, got null"),
	ERR("min_remotes true", "{\"perspective\": {\"min_remotes\": true}}",
	    "perspective.min_remotes: expected \"br\" or an integer from 1 to 64, got true"),
	ERR("remote RIR unknown", "{\"perspective\": {\"remotes\": [" REMOTE("a", "EU") "]}}",
	    "perspective.remotes[0].rir: expected one of \"ARIN\", \"RIPE\", \"APNIC\", \"LACNIC\", or \"AFRINIC\", got \"EU\""),
	ERR("remote RIR empty", "{\"perspective\": {\"remotes\": [" REMOTE("a", "") "]}}",
	    "perspective.remotes[0].rir: expected one of"),
	ERR("perspective.rir lowercase", "{\"perspective\": {\"rir\": \"ripe\"}}",
	    "perspective.rir: expected one of \"\", \"ARIN\""),
	ERR("duplicate remote names",
	    "{\"perspective\": {\"remotes\": [" REMOTE("r1", "RIPE") "," REMOTE("r2", "ARIN") ","
	    REMOTE("r1", "APNIC") "]}}",
	    "perspective.remotes[2].name: \"r1\" is also perspective.remotes[0].name"),
	ERR("remote named like this perspective",
	    "{\"perspective\": {\"remotes\": [" REMOTE("primary", "RIPE") "]}}",
	    "perspective.remotes[0].name: \"primary\" is this perspective's own name"),
	ERR("remote without address",
	    "{\"perspective\": {\"remotes\": [" THREE ", {\"name\": \"r4\", \"rir\": \"RIPE\"}]}}",
	    "perspective.remotes[3].address: missing"),
	ERR("remote address with a space",
	    "{\"perspective\": {\"remotes\": [{\"name\": \"a\", \"rir\": \"RIPE\", \"address\": \"a b:1\"}]}}",
	    "perspective.remotes[0].address: expected a gRPC target"),
	ERR("remote unknown key with a hint",
	    "{\"perspective\": {\"remotes\": [{\"name\": \"a\", \"rir\": \"RIPE\", \"adress\": \"a:1\"}]}}",
	    "unknown key \"perspective.remotes[0].adress\" (did you mean \"perspective.remotes[0].address\"?)"),
	ERR("remote tls.client_ca",
	    "{\"perspective\": {\"remotes\": [{\"name\": \"a\", \"rir\": \"RIPE\", \"address\": \"a:1\","
	    " \"tls\": {\"client_ca\": \"/ca\"}}]}}",
	    "perspective.remotes[0].tls.client_ca: a remote has no clients"),
	ERR("remote tls.key without cert",
	    "{\"perspective\": {\"remotes\": [{\"name\": \"a\", \"rir\": \"RIPE\", \"address\": \"a:1\","
	    " \"tls\": {\"key\": \"/k\"}}]}}",
	    "perspective.remotes[0].tls.key: set without perspective.remotes[0].tls.cert"),
	ERR("remote not an object", "{\"perspective\": {\"remotes\": [\"a:1\"]}}",
	    "perspective.remotes[0]: expected an object, got \"a:1\""),
	ERR("remotes an object", "{\"perspective\": {\"remotes\": {}}}",
	    "perspective.remotes: expected an array of objects, got an object"),
	ERR("remote name with a space",
	    "{\"perspective\": {\"remotes\": [{\"name\": \"a b\", \"rir\": \"RIPE\", \"address\": \"a:1\"}]}}",
	    "perspective.remotes[0].name: expected 1-64 letters"),
	ERR("min_remotes 0", "{\"perspective\": {\"min_remotes\": 0}}",
	    "perspective.min_remotes: expected \"br\" or an integer from 1 to 64, got 0"),
	ERR("remote_timeout 0", "{\"perspective\": {\"remote_timeout\": \"0ms\"}}",
	    "perspective.remote_timeout: must be at least 1ms"),
	ERR("perspective.name empty", "{\"perspective\": {\"name\": \"\"}}",
	    "perspective.name: expected a non-empty string"),

	/* JSON itself */
	ERR("duplicate key", "{\"listen\": \"a:1\", \"listen\": \"b:2\"}",
	    "JSON error at line 1:26: duplicate object key near '\"listen\"'"),
	ERR("duplicate nested key", "{\"dns\": {\"retries\": 1, \"retries\": 2}}", "duplicate object key"),
	ERR("trailing garbage", "{} x", "JSON syntax error at line 1:"),
	ERR("two objects", "{}{}", "JSON syntax error at line 1:"),
	ERR("syntax error names line:column", "{\n  \"listen\": ,\n}", "JSON syntax error at line 2:13"),
	ERR("unterminated", "{\"listen\": \"a:1\"", "JSON syntax error"),
	ERR("top level array", "[]", "config: expected an object, got an array"),
	ERR("top level null", "null", "JSON syntax error"),
	ERR("empty text", "", "config is empty"),
	ERR("only whitespace", " \n ", "config is empty"),
	ERR("NUL escaped in a string", "{\"listen\": \"a\\u0000:1\"}", "JSON syntax error"),
	ERR("comment is not JSON", "{ // listen\n}", "JSON syntax error at line 1:"),
};
/* clang-format on */

/* ---- rendering a field of a config as text ---- */

static void join(char *buf, size_t size, const char *const *v, size_t n)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(buf);
		snprintf(buf + len, size - len, "%s%s", i ? "," : "", v[i]);
	}
}

static const char *str(const char *s)
{
	return s != NULL ? s : "(null)";
}

static const char *tf(bool b)
{
	return b ? "true" : "false";
}

static void render_policy(const caa_policy_t *pol, const char *knob, char *buf, size_t size)
{
	if (strcmp(knob, "name") == 0) {
		snprintf(buf, size, "%s", pol->name);
	} else if (strcmp(knob, "critical") == 0) {
		snprintf(buf, size, "%s",
		         pol->critical == CAA_CRITICAL_UNKNOWN ? "unknown"
		                                               : "unknown-or-unsupported");
	} else if (strcmp(knob, "flag1_is_critical") == 0) {
		snprintf(buf, size, "%s", tf(pol->flag1_is_critical));
	} else if (strcmp(knob, "tld_nxdomain") == 0) {
		snprintf(buf, size, "%s", pol->tld_nxdomain_error ? "error" : "empty");
	} else if (strcmp(knob, "nodata_without_soa") == 0) {
		snprintf(buf, size, "%s", pol->nodata_without_soa_error ? "error" : "empty");
	} else if (strcmp(knob, "insecure_lookup_failure_permits") == 0) {
		snprintf(buf, size, "%s", tf(pol->insecure_lookup_failure_permits));
	} else if (strcmp(knob, "boulder_recheck_types") == 0) {
		snprintf(buf, size, "%s", tf(pol->boulder_recheck_types));
	} else if (strcmp(knob, "issuer_domains") == 0) {
		join(buf, size, pol->issuer_domains, pol->n_issuer_domains);
	} else if (strcmp(knob, "account_uri_prefixes") == 0) {
		join(buf, size, pol->account_uri_prefixes, pol->n_account_uri_prefixes);
	} else if (strcmp(knob, "method_labels") == 0) {
		if (pol->method_labels == NULL) {
			snprintf(buf, size, "(default)");
			return;
		}
		buf[0] = '\0';
		for (size_t i = 0; i < pol->n_method_labels; i++) {
			const caa_method_label_t *ml = &pol->method_labels[i];
			size_t len = strlen(buf);
			snprintf(buf + len, size - len, "%s%s=", i ? ";" : "", ml->label);
			for (size_t j = 0; j < ml->n_methods; j++) {
				len = strlen(buf);
				snprintf(buf + len, size - len, "%s%s", j ? "+" : "",
				         ml->methods[j]);
			}
		}
	} else {
		fail_msg("no such policy field \"%s\" in the table", knob);
	}
}

static void render(const caa_config_t *cfg, const char *field, char *buf, size_t size)
{
	if (strncmp(field, "policy.", 7) == 0) {
		render_policy(caa_config_policy(cfg, NULL), field + 7, buf, size);
		return;
	}
	if (strncmp(field, "profiles.", 9) == 0) {
		char name[64];
		const char *dot = strchr(field + 9, '.');
		assert_non_null(dot);
		snprintf(name, sizeof(name), "%.*s", (int)(dot - field - 9), field + 9);
		const caa_policy_t *pol = caa_config_policy(cfg, name);
		if (pol == NULL) {
			snprintf(buf, size, "(no profile)");
			return;
		}
		render_policy(pol, dot + 1, buf, size);
		return;
	}
#define S(f, e)                                                                                    \
	if (strcmp(field, f) == 0) {                                                               \
		snprintf(buf, size, "%s", str(e));                                                 \
		return;                                                                            \
	}
#define U(f, e)                                                                                    \
	if (strcmp(field, f) == 0) {                                                               \
		snprintf(buf, size, "%llu", (unsigned long long)(e));                              \
		return;                                                                            \
	}
	S("listen", cfg->listen);
	S("tls.cert", cfg->tls.cert);
	S("tls.key", cfg->tls.key);
	S("tls.client_ca", cfg->tls.client_ca);
	S("metrics_listen", cfg->metrics_listen);
	S("http.listen", cfg->http.listen);
	S("http.tls.cert", cfg->http.tls.cert);
	S("http.tls.client_ca", cfg->http.tls.client_ca);
	U("recheck_window_ms", cfg->recheck_window_ms);
	U("max_in_flight", cfg->max_in_flight);
	S("dns.unbound_conf", cfg->dns.unbound_conf);
	U("dns.timeout_ms", cfg->dns.timeout_ms);
	U("dns.query_timeout_ms", cfg->dns.query_timeout_ms);
	U("dns.retries", cfg->dns.retries);
	S("dns.trust_anchor_file", cfg->dns.trust_anchor_file);
	U("dns.max_per_zone", cfg->dns.max_per_zone);
	U("dns.max_outstanding", cfg->dns.max_outstanding);
	U("n_profiles", cfg->n_profiles);
	S("cache.backend", cfg->cache.backend);
	U("cache.max_entries", cfg->cache.max_entries);
	S("cache.redis.address", cfg->cache.redis.address);
	S("cache.redis.key_file", cfg->cache.redis.key_file);
	S("cache.redis.password_file", cfg->cache.redis.password_file);
	S("cache.redis.key_prefix", cfg->cache.redis.key_prefix);
	U("cache.redis.timeout_ms", cfg->cache.redis.timeout_ms);
	U("cache.redis.db", cfg->cache.redis.db);
	S("perspective.name", cfg->perspective.name);
	S("perspective.rir", cfg->perspective.rir);
	U("perspective.min_remotes", cfg->perspective.min_remotes);
	U("perspective.remote_timeout_ms", cfg->perspective.remote_timeout_ms);
#undef S
#undef U
	if (strcmp(field, "issuer_domains") == 0) {
		join(buf, size, (const char *const *)cfg->issuer_domains, cfg->n_issuer_domains);
	} else if (strcmp(field, "tls.client_names") == 0) {
		join(buf, size, (const char *const *)cfg->tls.client_names,
		     cfg->tls.n_client_names);
	} else if (strcmp(field, "account_uri_prefixes") == 0) {
		join(buf, size, (const char *const *)cfg->account_uri_prefixes,
		     cfg->n_account_uri_prefixes);
	} else if (strcmp(field, "webhooks") == 0) {
		buf[0] = '\0';
		for (size_t i = 0; i < cfg->n_webhooks; i++) {
			const caa_webhook_config_t *w = &cfg->webhooks[i];
			size_t len = strlen(buf);
			snprintf(buf + len, size - len, "%s%s/%s/%s/%s/%s", i ? "," : "", w->name,
			         w->secret_file, w->policy, w->validation_method, w->account_uri);
		}
	} else if (strcmp(field, "perspective.remotes") == 0) {
		buf[0] = '\0';
		for (size_t i = 0; i < cfg->perspective.n_remotes; i++) {
			const caa_remote_config_t *r = &cfg->perspective.remotes[i];
			size_t len = strlen(buf);
			snprintf(buf + len, size - len, "%s%s/%s/%s/%s/%s/%s", i ? "," : "",
			         r->name, r->rir, r->address, r->tls.cert ? r->tls.cert : "-",
			         r->tls.key ? r->tls.key : "-", r->tls.ca ? r->tls.ca : "-");
		}
	} else {
		fail_msg("no such field \"%s\" in the table", field);
	}
}

/* ---- the table ---- */

static void check_message(const char *what, const char *err)
{
	if (err[0] == '\0' || strchr(err, '\n') != NULL) {
		fail_msg("%s: message empty or not one line: \"%s\"", what, err);
	}
}

static void test_rows(void **state)
{
	(void)state;
	size_t n = sizeof(rows) / sizeof(rows[0]), failed = 0;
	assert_true(n >= 50);
	/* report every failing row, not just the first */
#define ROW_FAIL(...)                                                                              \
	do {                                                                                       \
		print_error(__VA_ARGS__);                                                          \
		failed++;                                                                          \
	} while (0)
	for (size_t i = 0; i < n; i++) {
		const row_t *r = &rows[i];
		caa_config_t *cfg = NULL;
		char err[512] = "";
		int ret = caa_config_parse(r->json, strlen(r->json), &cfg, err, sizeof(err));
		if (ret != r->code) {
			ROW_FAIL("row \"%s\": returned %d (%s), want %d; message \"%s\"\n", r->what,
			         ret, caa_strerror(ret), r->code, err);
			caa_config_free(ret == CAA_EOK ? cfg : NULL);
			continue;
		}
		if (ret != CAA_EOK) {
			assert_null(cfg);
			check_message(r->what, err);
			if (strstr(err, r->msg) == NULL) {
				ROW_FAIL("row \"%s\": message \"%s\" lacks \"%s\"\n", r->what, err,
				         r->msg);
			}
			continue;
		}
		assert_non_null(cfg);
		for (const want_t *w = r->want; w->field != NULL; w++) {
			char got[1024];
			render(cfg, w->field, got, sizeof(got));
			if (strcmp(got, w->value) != 0) {
				ROW_FAIL("row \"%s\": %s is \"%s\", want \"%s\"\n", r->what,
				         w->field, got, w->value);
			}
		}
		caa_config_free(cfg);
	}
#undef ROW_FAIL
	print_message("%zu rows, %zu failed\n", n, failed);
	assert_int_equal(failed, 0);
}

/* ---- durations on their own ---- */

static void test_duration(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int code;
		uint64_t ms;
	} t[] = {
	    {"500ms", CAA_EOK, 500},
	    {"10s", CAA_EOK, 10000},
	    {"5m", CAA_EOK, 300000},
	    {"7h", CAA_EOK, 25200000},
	    {"0s", CAA_EOK, 0},
	    {"0ms", CAA_EOK, 0},
	    {"007s", CAA_EOK, 7000},
	    {"18446744073709551615ms", CAA_EOK, UINT64_MAX},
	    {"18446744073709551616ms", CAA_EINVAL, 0},
	    {"18446744073709552s", CAA_EINVAL, 0},
	    {"5124095576031h", CAA_EINVAL, 0},
	    {"5124095576030h", CAA_EOK, UINT64_C(18446744073708000000)},
	    {"10", CAA_EINVAL, 0},
	    {"10d", CAA_EINVAL, 0},
	    {"-1s", CAA_EINVAL, 0},
	    {"+1s", CAA_EINVAL, 0},
	    {"1.5s", CAA_EINVAL, 0},
	    {"", CAA_EINVAL, 0},
	    {"s", CAA_EINVAL, 0},
	    {"1sec", CAA_EINVAL, 0},
	    {"1 s", CAA_EINVAL, 0},
	    {" 1s", CAA_EINVAL, 0},
	    {"1s ", CAA_EINVAL, 0},
	    {"1mss", CAA_EINVAL, 0},
	    {"1us", CAA_EINVAL, 0},
	    {"1H", CAA_EINVAL, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t ms = 12345;
		int ret = caa_duration_parse(t[i].text, &ms);
		if (ret != t[i].code || (ret == CAA_EOK && ms != t[i].ms)) {
			fail_msg("duration \"%s\": %d %llu, want %d %llu", t[i].text, ret,
			         (unsigned long long)ms, t[i].code, (unsigned long long)t[i].ms);
		}
		if (ret != CAA_EOK) {
			assert_int_equal(ms, 12345); /* untouched on error */
		}
	}
	uint64_t ms;
	assert_int_equal(caa_duration_parse(NULL, &ms), CAA_EINVAL);
	assert_int_equal(caa_duration_parse("1s", NULL), CAA_EINVAL);
}

/* ---- the API around the parser ---- */

static void test_default(void **state)
{
	(void)state;
	caa_config_t *a = NULL, *b = NULL;
	assert_int_equal(caa_config_default(&a), CAA_EOK);
	assert_int_equal(caa_config_parse("{}", 2, &b, NULL, 0), CAA_EOK);
	/* every field rendered the same as {} gives */
	for (const want_t *w = rows[0].want; w->field != NULL; w++) {
		char x[1024], y[1024];
		render(a, w->field, x, sizeof(x));
		render(b, w->field, y, sizeof(y));
		assert_string_equal(x, y);
		assert_string_equal(x, w->value);
	}
	assert_ptr_equal(caa_config_policy(a, NULL), &a->policy);
	assert_ptr_equal(caa_config_policy(a, ""), &a->policy);
	assert_null(caa_config_policy(a, "strict"));
	assert_null(caa_config_policy(NULL, NULL));
	caa_config_free(a);
	caa_config_free(b);
	caa_config_free(NULL);
	assert_int_equal(caa_config_default(NULL), CAA_EINVAL);
}

/* The policies borrow the config's arrays: no copies to drift apart. */
static void test_borrowing(void **state)
{
	(void)state;
	const char *json =
	    "{\"issuer_domains\": [\"ca.example\"],"
	    " \"account_uri_prefixes\": [\"https://ca.example/a/\"],"
	    " \"profiles\": {\"p\": {}, \"q\": {\"critical\": \"unknown-or-unsupported\"}}}";
	caa_config_t *cfg = NULL;
	assert_int_equal(caa_config_parse(json, strlen(json), &cfg, NULL, 0), CAA_EOK);
	const caa_policy_t *pols[] = {&cfg->policy, caa_config_policy(cfg, "p"),
	                              caa_config_policy(cfg, "q")};
	for (size_t i = 0; i < 3; i++) {
		assert_non_null(pols[i]);
		assert_ptr_equal(pols[i]->issuer_domains, cfg->issuer_domains);
		assert_int_equal(pols[i]->n_issuer_domains, 1);
		assert_ptr_equal(pols[i]->account_uri_prefixes, cfg->account_uri_prefixes);
		assert_int_equal(pols[i]->n_account_uri_prefixes, 1);
	}
	assert_string_equal(pols[1]->name, "p");
	assert_string_equal(pols[2]->name, "q");
	assert_ptr_equal(pols[1], &cfg->profiles[0]);
	caa_config_free(cfg);
}

/* err may be NULL/0 or too short; *out stays untouched on error. */
static void test_err_buffer(void **state)
{
	(void)state;
	caa_config_t *cfg = (caa_config_t *)&cfg; /* a sentinel that must survive */
	const char *bad = "{\"dns\": {\"timeout\": \"ten\"}}";
	assert_int_equal(caa_config_parse(bad, strlen(bad), &cfg, NULL, 0), CAA_ECONFIG);
	assert_ptr_equal(cfg, (caa_config_t *)&cfg);
	char small[12];
	memset(small, 'x', sizeof(small));
	assert_int_equal(caa_config_parse(bad, strlen(bad), &cfg, small, sizeof(small)),
	                 CAA_ECONFIG);
	assert_string_equal(small, "dns.timeout");
	char one[1] = {'x'};
	assert_int_equal(caa_config_parse(bad, strlen(bad), &cfg, one, 1), CAA_ECONFIG);
	assert_int_equal(one[0], '\0');
	assert_int_equal(caa_config_parse(NULL, 0, &cfg, NULL, 0), CAA_EINVAL);
	assert_int_equal(caa_config_parse("{}", 2, NULL, NULL, 0), CAA_EINVAL);

	/* the length is honoured: text after len is not read */
	cfg = NULL;
	assert_int_equal(caa_config_parse("{}garbage", 2, &cfg, NULL, 0), CAA_EOK);
	caa_config_free(cfg);

	/* hostile keys stay one escaped line */
	char err[256];
	const char *ctl = "{\"a\\nb\\u00e9\": 1}";
	assert_int_equal(caa_config_parse(ctl, strlen(ctl), &cfg, err, sizeof(err)), CAA_ECONFIG);
	assert_string_equal(err, "unknown key \"a\\x0ab\\xc3\\xa9\"");
}

static void test_size_limit(void **state)
{
	(void)state;
	size_t len = CAA_CONFIG_MAX_SIZE + 1;
	char *big = malloc(len);
	assert_non_null(big);
	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	caa_config_t *cfg = NULL;
	char err[256];
	assert_int_equal(caa_config_parse(big, len, &cfg, err, sizeof(err)), CAA_ELIMIT);
	assert_non_null(strstr(err, "larger than"));
	/* exactly at the limit is fine */
	big[len - 2] = '}';
	assert_int_equal(caa_config_parse(big, len - 1, &cfg, err, sizeof(err)), CAA_EOK);
	caa_config_free(cfg);
	free(big);
}

/* The documented caps on list sizes: text built by printf, too long for a row. */
static void test_limits(void **state)
{
	(void)state;
	/* head, then n times pre<k>post joined by ',', then tail */
	static const struct {
		const char *head, *pre, *post, *tail, *msg;
		int n;
	} t[] = {
	    {"{\"issuer_domains\": [", "\"ca", ".example\"", "]}", "issuer_domains: at most 256",
	     257},
	    {"{\"account_uri_prefixes\": [", "\"https://ca.example/", "/\"", "]}",
	     "account_uri_prefixes: at most 256", 257},
	    {"{\"policy\": {\"method_labels\": {", "\"l", "\": []", "}}}",
	     "policy.method_labels: at most 256 labels", 257},
	    {"{\"policy\": {\"method_labels\": {\"l\": [", "\"m", "\"", "]}}}",
	     "policy.method_labels.l: at most 32 methods", 33},
	    {"{\"profiles\": {", "\"p", "\": {}", "}}", "profiles: at most 256 profiles", 257},
	    {"{\"perspective\": {\"remotes\": [", "{\"name\": \"r",
	     "\", \"rir\": \"RIPE\", \"address\": \"a:1\"}", "]}}",
	     "perspective.remotes: at most 64 remotes", 65},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (int n = t[i].n - 1; n <= t[i].n; n++) {
			char *json = calloc(1, 65536);
			assert_non_null(json);
			strcat(json, t[i].head);
			for (int k = 0; k < n; k++) {
				size_t len = strlen(json);
				if (k > 0) {
					json[len++] = ',';
				}
				snprintf(json + len, 65536 - len, "%s%d%s", t[i].pre, k, t[i].post);
			}
			strcat(json, t[i].tail);
			caa_config_t *cfg = NULL;
			char err[256] = "";
			int ret = caa_config_parse(json, strlen(json), &cfg, err, sizeof(err));
			if (n < t[i].n) {
				/* exactly at the cap is fine */
				if (ret != CAA_EOK) {
					fail_msg("%d entries: %s", n, err);
				}
				caa_config_free(cfg);
			} else {
				assert_int_equal(ret, CAA_ECONFIG);
				if (strstr(err, t[i].msg) == NULL) {
					fail_msg("\"%s\" lacks \"%s\"", err, t[i].msg);
				}
			}
			free(json);
		}
	}
}

/* ---- files ---- */

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_config.XXXXXX", path[256], err[512];
	caa_config_t *cfg = NULL;
	assert_non_null(mkdtemp(dir));

	snprintf(path, sizeof(path), "%s/missing.json", dir);
	assert_int_equal(caa_config_load(path, &cfg, err, sizeof(err)), CAA_EIO);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file or directory"));
	assert_null(cfg);

	assert_int_equal(caa_config_load(dir, &cfg, err, sizeof(err)), CAA_EIO);
	assert_non_null(strstr(err, "Is a directory"));

	snprintf(path, sizeof(path), "%s/empty.json", dir);
	write_file(path, "", 0);
	assert_int_equal(caa_config_load(path, &cfg, err, sizeof(err)), CAA_ECONFIG);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "config is empty"));
	unlink(path);

	snprintf(path, sizeof(path), "%s/bad.json", dir);
	const char *bad = "{\n  \"dns\": {\"timeout\": \"ten\"}\n}\n";
	write_file(path, bad, strlen(bad));
	assert_int_equal(caa_config_load(path, &cfg, err, sizeof(err)), CAA_ECONFIG);
	char want[512];
	snprintf(want, sizeof(want), "%s: dns.timeout: expected a duration like \"10s\"", path);
	assert_non_null(strstr(err, want));
	unlink(path);

	snprintf(path, sizeof(path), "%s/big.json", dir);
	size_t len = CAA_CONFIG_MAX_SIZE + 10;
	char *big = malloc(len);
	assert_non_null(big);
	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	write_file(path, big, len);
	free(big);
	assert_int_equal(caa_config_load(path, &cfg, err, sizeof(err)), CAA_ELIMIT);
	assert_non_null(strstr(err, path));
	unlink(path);

	snprintf(path, sizeof(path), "%s/good.json", dir);
	const char *good = "{\"issuer_domains\": [\"ca.example\"]}";
	write_file(path, good, strlen(good));
	assert_int_equal(caa_config_load(path, &cfg, err, sizeof(err)), CAA_EOK);
	assert_int_equal(cfg->n_issuer_domains, 1);
	caa_config_free(cfg);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

static char *slurp(const char *dir, const char *name)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = calloc(1, CAA_CONFIG_MAX_SIZE + 1);
	assert_non_null(buf);
	size_t n = fread(buf, 1, CAA_CONFIG_MAX_SIZE, f);
	assert_true(n > 0);
	fclose(f);
	return buf;
}

/* The shipped example (also in the docs) and the full fuzz seed parse. */
static void test_examples(void **state)
{
	(void)state;
	char src[512], path[600], err[512];
	const char *env = getenv("CAA_SOURCE_DIR");
	if (env != NULL) {
		snprintf(src, sizeof(src), "%s", env);
	} else {
		/* __FILE__ is absolute under CMake: strip tests/unit/test_config.c */
		snprintf(src, sizeof(src), "%s", __FILE__);
		char *cut = strstr(src, "/tests/unit/test_config.c");
		assert_non_null(cut);
		*cut = '\0';
	}
	caa_config_t *cfg = NULL;
	snprintf(path, sizeof(path), "%s/deploy/caad.example.json", src);
	if (caa_config_load(path, &cfg, err, sizeof(err)) != CAA_EOK) {
		fail_msg("%s", err);
	}
	/* a real CA: recursion from the root, DNSSEC on, mTLS, three remotes */
	assert_null(cfg->dns.unbound_conf);
	assert_string_equal(cfg->dns.trust_anchor_file, "/usr/share/dns/root.key");
	assert_non_null(cfg->tls.client_ca);
	assert_true(cfg->n_issuer_domains >= 1);
	/* "br", and enough remotes for the schedule's last step */
	assert_int_equal(cfg->perspective.min_remotes, 0);
	assert_true(cfg->perspective.n_remotes >= caa_mpic_min_remotes_br(INT64_MAX));
	caa_config_free(cfg);

	/* docs/config.md shows the example verbatim */
	char *example = slurp(src, "deploy/caad.example.json");
	char *doc = slurp(src, "docs/config.md");
	assert_non_null(strstr(doc, example));
	free(example);
	free(doc);

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/config/full.json", src);
	if (caa_config_load(path, &cfg, err, sizeof(err)) != CAA_EOK) {
		fail_msg("%s", err);
	}
	caa_config_free(cfg);
}

/* --- the generation (caa_config_generation) ---------------------------------------------- */

/* A config from its parts; each row of test_generation changes one part of
 * the base and says whether the generation must change with it. */
#define ISS        "\"issuer_domains\": [\"ca.example\", \"ca2.example\"]"
#define PFX        "\"account_uri_prefixes\": [\"https://ca.example/acct/\", \"https://ca.example/v2/\"]"
#define DNS_(more) "\"dns\": {\"timeout\": \"10s\", \"retries\": 2" more "}"
#define DNS        DNS_("")
#define POL_(more)                                                                                 \
	"\"policy\": {\"critical\": \"unknown\"" more                                              \
	", \"method_labels\": {\"x-one\": [\"dns-01\", \"http-01\"]}}"
#define POL                                POL_("")
#define PRO_(a, b)                         "\"profiles\": {\"a\": {" a "}, \"b\": {" b "}}"
#define PRO                                PRO_("\"tld_nxdomain\": \"empty\"", "\"flag1_is_critical\": false")
#define CFG(iss, pfx, dns, pol, pro, more) "{" iss ", " pfx ", " dns ", " pol ", " pro more "}"
#define BASE_WITH(more)                    CFG(ISS, PFX, DNS, POL, PRO, more)

static void generation_of(const char *json, uint8_t out[CAA_CONFIG_GENERATION_LEN])
{
	caa_config_t *cfg;
	char err[256];
	if (caa_config_parse(json, strlen(json), &cfg, err, sizeof(err)) != CAA_EOK) {
		fail_msg("%s: %s", json, err);
	}
	assert_int_equal(caa_config_generation(cfg, out), CAA_EOK);
	caa_config_free(cfg);
}

static void test_generation(void **state)
{
	/* clang-format off */
	static const struct {
		const char *what, *json;
		bool same;
	} cases[] = {
		{"the same text", BASE_WITH(""), true},
		{"keys in another order, other spacing",
		 "{\n" PRO ",\n" POL ", " DNS ",\t" PFX ", " ISS "}", true},
		{"sets in another order, case where it is ignored, a default spelled out",
		 CFG("\"issuer_domains\": [\"ca2.example\", \"CA.example\"]",
		     "\"account_uri_prefixes\": [\"https://ca.example/v2/\", \"https://ca.example/acct/\"]",
		     "\"dns\": {\"retries\": 2}",
		     "\"policy\": {\"method_labels\": {\"X-ONE\": [\"http-01\", \"DNS-01\", \"dns-01\"]}}",
		     "\"profiles\": {\"b\": {\"flag1_is_critical\": false}, \"a\": {\"tld_nxdomain\": \"empty\"}}",
		     ""), true},
		/* keys that never change a verdict */
		{"listen", BASE_WITH(", \"listen\": \"0.0.0.0:443\""), true},
		{"metrics_listen", BASE_WITH(", \"metrics_listen\": \"127.0.0.1:9\""), true},
		{"tls", BASE_WITH(", \"tls\": {\"cert\": \"c.pem\", \"key\": \"k.pem\"}"), true},
		{"max_in_flight", BASE_WITH(", \"max_in_flight\": 7"), true},
		{"recheck_window", BASE_WITH(", \"recheck_window\": \"1h\""), true},
		{"cache", BASE_WITH(", \"cache\": {\"max_entries\": 5}"), true},
		{"dns.max_per_zone", CFG(ISS, PFX, DNS_(", \"max_per_zone\": 3"), POL, PRO, ""), true},
		{"perspective.name", BASE_WITH(", \"perspective\": {\"name\": \"p2\", \"rir\": \"RIPE\"}"),
		 true},
		/* keys that may */
		{"issuer_domains", CFG("\"issuer_domains\": [\"ca.example\"]", PFX, DNS, POL, PRO, ""),
		 false},
		{"account_uri_prefixes",
		 CFG(ISS, "\"account_uri_prefixes\": [\"https://ca.example/acct/\"]", DNS, POL, PRO, ""),
		 false},
		{"dns.unbound_conf", CFG(ISS, PFX, DNS_(", \"unbound_conf\": \"u.conf\""), POL, PRO, ""),
		 false},
		{"dns.trust_anchor_file",
		 CFG(ISS, PFX, DNS_(", \"trust_anchor_file\": \"root.key\""), POL, PRO, ""), false},
		{"dns.timeout", CFG(ISS, PFX, "\"dns\": {\"timeout\": \"9s\", \"retries\": 2}", POL, PRO, ""),
		 false},
		{"dns.query_timeout", CFG(ISS, PFX, DNS_(", \"query_timeout\": \"2s\""), POL, PRO, ""), false},
		{"dns.retries", CFG(ISS, PFX, "\"dns\": {\"timeout\": \"10s\", \"retries\": 1}", POL, PRO, ""),
		 false},
		{"policy.critical",
		 CFG(ISS, PFX, DNS, "\"policy\": {\"critical\": \"unknown-or-unsupported\", "
		     "\"method_labels\": {\"x-one\": [\"dns-01\", \"http-01\"]}}", PRO, ""), false},
		{"policy.flag1_is_critical",
		 CFG(ISS, PFX, DNS, POL_(", \"flag1_is_critical\": false"), PRO, ""), false},
		{"policy.tld_nxdomain", CFG(ISS, PFX, DNS, POL_(", \"tld_nxdomain\": \"empty\""), PRO, ""),
		 false},
		{"policy.nodata_without_soa",
		 CFG(ISS, PFX, DNS, POL_(", \"nodata_without_soa\": \"error\""), PRO, ""), false},
		{"policy.insecure_lookup_failure_permits",
		 CFG(ISS, PFX, DNS, POL_(", \"insecure_lookup_failure_permits\": true"), PRO, ""), false},
		{"policy.boulder_recheck_types",
		 CFG(ISS, PFX, DNS, POL_(", \"boulder_recheck_types\": true"), PRO, ""), false},
		{"a method label's methods",
		 CFG(ISS, PFX, DNS, "\"policy\": {\"method_labels\": {\"x-one\": [\"dns-01\"]}}", PRO, ""),
		 false},
		{"a label renamed",
		 CFG(ISS, PFX, DNS, "\"policy\": {\"method_labels\": {\"x-two\": [\"dns-01\", \"http-01\"]}}",
		     PRO, ""), false},
		{"a default label remapped",
		 CFG(ISS, PFX, DNS, "\"policy\": {\"method_labels\": {\"x-one\": [\"dns-01\", \"http-01\"], "
		     "\"ca-tbr-7\": [\"dns-01\"]}}", PRO, ""), false},
		{"a profile's content",
		 CFG(ISS, PFX, DNS, POL, PRO_("\"tld_nxdomain\": \"error\"", "\"flag1_is_critical\": false"),
		     ""), false},
		{"a profile's method labels",
		 CFG(ISS, PFX, DNS, POL, PRO_("\"tld_nxdomain\": \"empty\", \"method_labels\": {\"x-one\": []}",
		     "\"flag1_is_critical\": false"), ""), false},
		{"a profile renamed",
		 CFG(ISS, PFX, DNS, POL, "\"profiles\": {\"c\": {\"tld_nxdomain\": \"empty\"}, "
		     "\"b\": {\"flag1_is_critical\": false}}", ""), false},
		{"a profile added",
		 CFG(ISS, PFX, DNS, POL, "\"profiles\": {\"a\": {\"tld_nxdomain\": \"empty\"}, "
		     "\"b\": {\"flag1_is_critical\": false}, \"c\": {}}", ""), false},
		{"perspective.min_remotes \"br\" spelled out",
		 BASE_WITH(", \"perspective\": {\"min_remotes\": \"br\"}"), true},
		{"perspective.min_remotes", BASE_WITH(", \"perspective\": {\"min_remotes\": 2}"), false},
		{"perspective.min_remotes 3 is not \"br\"",
		 BASE_WITH(", \"perspective\": {\"min_remotes\": 3}"), false},
		{"perspective.remote_timeout", BASE_WITH(", \"perspective\": {\"remote_timeout\": \"2s\"}"),
		 false},
		{"perspective.remotes", BASE_WITH(", \"perspective\": {\"min_remotes\": 1, \"remotes\": "
		     "[{\"name\": \"r1\", \"rir\": \"RIPE\", \"address\": \"r1:443\"}]}"), false},
	};
	/* clang-format on */
	uint8_t base[CAA_CONFIG_GENERATION_LEN], got[CAA_CONFIG_GENERATION_LEN];
	(void)state;

	generation_of(cases[0].json, base);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("generation: %s\n", cases[i].what);
		generation_of(cases[i].json, got);
		assert_int_equal(memcmp(base, got, sizeof(base)) == 0, cases[i].same);
	}

	/* the default mapping is the mapping: spelling it out changes nothing */
	uint8_t none[CAA_CONFIG_GENERATION_LEN];
	generation_of("{}", none);
	generation_of(
	    "{\"policy\": {\"method_labels\": {\"ca-tbr-7\": [\"dns-01\", \"dns-account-01\"],"
	    " \"ca-tbr-19\": [\"http-01\"], \"ca-tbr-20\": [\"tls-alpn-01\"]}}}",
	    got);
	assert_memory_equal(none, got, sizeof(none));
	caa_config_t *cfg;
	assert_int_equal(caa_config_default(&cfg), CAA_EOK);
	assert_int_equal(caa_config_generation(cfg, got), CAA_EOK);
	assert_memory_equal(none, got, sizeof(none));
	assert_int_equal(caa_config_generation(NULL, got), CAA_EINVAL);
	assert_int_equal(caa_config_generation(cfg, NULL), CAA_EINVAL);
	caa_config_free(cfg);
}

#undef ISS
#undef PFX
#undef DNS_
#undef DNS
#undef POL_
#undef POL
#undef PRO_
#undef PRO
#undef CFG
#undef BASE_WITH

/* The generation of {"dns": {"unbound_conf": DIR/u.conf, "trust_anchor_file": DIR/root.key}}. */
static void generation_files(const char *dir, uint8_t out[CAA_CONFIG_GENERATION_LEN])
{
	char json[1024];
	snprintf(
	    json, sizeof(json),
	    "{\"dns\": {\"unbound_conf\": \"%s/u.conf\", \"trust_anchor_file\": \"%s/root.key\"}}",
	    dir, dir);
	generation_of(json, out);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	write_file(path, text, strlen(text));
}

/* The files named by path are hashed by content: the same path with other
 * content (forwarders, domain-insecure, anchors) is another generation, and
 * so are the files the unbound.conf names (include:, trust-anchor-file:,
 * root-hints:, ...). A file that cannot be read is a generation of its own. */
static void test_generation_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_config_gen.XXXXXX", conf[2048];
	uint8_t a[CAA_CONFIG_GENERATION_LEN], b[CAA_CONFIG_GENERATION_LEN],
	    c[CAA_CONFIG_GENERATION_LEN];
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf),
	         "server:\n  domain-insecure: corp\n  include: \"%s/inc-*.conf\"\n"
	         "  trust-anchor-file: %s/ta.key # comment\n"
	         "  # include: %s/commented.conf\n"
	         "forward-zone:\n  name: \".\"\n  forward-addr: 192.0.2.1\n",
	         dir, dir, dir);
	put(dir, "u.conf", conf);
	put(dir, "root.key", ". IN DS 20326 8 2 E06D\n");
	put(dir, "inc-1.conf", "server:\n  val-log-level: 2\n");
	put(dir, "ta.key", "example. IN DS 1 8 2 AA\n");
	put(dir, "commented.conf", "server:\n");
	generation_files(dir, a);
	generation_files(dir, b);
	assert_memory_equal(a, b, sizeof(a)); /* files unchanged: the same */

	static const struct {
		const char *what, *name, *text;
	} edits[] = {
	    {"unbound_conf: another forwarder", "u.conf", NULL},
	    {"trust_anchor_file: another anchor", "root.key", ". IN DS 20326 8 2 E06E\n"},
	    {"an included file", "inc-1.conf", "server:\n  domain-insecure: example\n"},
	    {"a file the include's pattern now matches", "inc-2.conf", "server:\n"},
	    {"a trust-anchor-file the unbound.conf names", "ta.key", "example. IN DS 1 8 2 AB\n"},
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		print_message("generation files: %s\n", edits[i].what);
		char other[2048];
		const char *text = edits[i].text;
		if (text == NULL) {
			snprintf(other, sizeof(other), "%s", conf);
			char *addr = strstr(other, "192.0.2.1");
			assert_non_null(addr);
			addr[8] = '2';
			text = other;
		}
		put(dir, edits[i].name, text);
		generation_files(dir, b);
		assert_memory_not_equal(a, b, sizeof(a));
		memcpy(a, b, sizeof(a));
	}

	/* a file in a commented-out include is not read */
	put(dir, "commented.conf", "server:\n  domain-insecure: example\n");
	generation_files(dir, b);
	assert_memory_equal(a, b, sizeof(a));

	/* unreadable, empty and present differ; the same content twice is the same */
	char path[600];
	snprintf(path, sizeof(path), "%s/root.key", dir);
	assert_int_equal(unlink(path), 0);
	generation_files(dir, b); /* missing */
	assert_memory_not_equal(a, b, sizeof(a));
	put(dir, "root.key", "");
	generation_files(dir, c); /* empty */
	assert_memory_not_equal(b, c, sizeof(b));
	assert_memory_not_equal(a, c, sizeof(a));
	put(dir, "root.key", ". IN DS 20326 8 2 E06E\n");
	generation_files(dir, b);
	assert_memory_equal(a, b, sizeof(a));

	/* an include of itself ends (nesting is bounded) */
	snprintf(conf, sizeof(conf), "server:\n  include: \"%s/u.conf\"\n", dir);
	put(dir, "u.conf", conf);
	generation_files(dir, b);

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rows),
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_default),
	    cmocka_unit_test(test_borrowing),
	    cmocka_unit_test(test_err_buffer),
	    cmocka_unit_test(test_size_limit),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_examples),
	    cmocka_unit_test(test_generation),
	    cmocka_unit_test(test_generation_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
