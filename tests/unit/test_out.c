/* bmsmon's outputs' shared half (firmware/port/host/out.c) and the Influx line writer: the state
 * object made of a telemetry line, and the line protocol line made of it, byte for byte. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../firmware/port/host/out.h"

static void state_is_the_line_plus_id_and_bit_names(void **unused)
{
	cJSON *s = out_state_from_line("BMSRIG {\"ms\":5,\"proto\":\"jbd\",\"prot\":1025,\"why\":20}", "jbd0");
	char *text;

	(void)unused;
	assert_non_null(s);
	text = cJSON_PrintUnformatted(s);
	/* prot 1025 = bits 0 and 10, why 20 = bits 2 and 4 */
	assert_string_equal(text, "{\"ms\":5,\"proto\":\"jbd\",\"prot\":1025,\"why\":20,\"id\":\"jbd0\","
	                    "\"prot_names\":[\"cell_ov\",\"short\"],\"why_names\":[\"temp_high\",\"comm_lost\"]}");
	free(text);
	cJSON_Delete(s);
}

static void other_lines_are_no_state(void **unused)
{
	(void)unused;
	assert_null(out_state_from_line("BMSRIG-BOOT {\"ms\":1}", "x"));
	assert_null(out_state_from_line("BMSRIG [1,2]", "x"));
	assert_null(out_state_from_line("BMSRIG {\"ms\":", "x"));
	assert_null(out_state_from_line("", "x"));
}

static void influx_line_of_a_lone_bms(void **unused)
{
	cJSON *s = out_state_from_line("BMSRIG {\"ms\":90,\"proto\":\"jbd\",\"ok\":1,\"pack_mv\":13220,"
	                               "\"current_ma\":-5000,\"cells_mv\":[3304,3303],\"temps_dk\":[2984],"
	                               "\"relay\":0,\"why\":4}", "jbd0");
	char line[512];
	size_t n;

	(void)unused;
	n = out_influx_line(line, sizeof line, s, 1765145000123000000ull);
	assert_string_equal(line, "bmsrig,id=jbd0,proto=jbd ms=90i,ok=1i,pack_mv=13220i,current_ma=-5000i,"
	                    "cell1_mv=3304i,cell2_mv=3303i,temp1_dk=2984i,relay=0i,why=4i 1765145000123000000\n");
	assert_int_equal(n, strlen(line));
	cJSON_Delete(s);
}

static void influx_escapes_tags_and_prefixes_the_bridge_record(void **unused)
{
	cJSON *s = out_state_from_line("BMSRIG {\"ms\":1,\"proto\":\"daly\",\"soc_pct\":55,"
	                               "\"inv\":{\"cvl_mv\":56800,\"pack_ok\":[1,0],\"pack_age_ms\":[10,4000]}}",
	                               "a b,c=d\\e");
	char line[512];

	(void)unused;
	assert_true(out_influx_line(line, sizeof line, s, 7) > 0);
	assert_string_equal(line, "bmsrig,id=a\\ b\\,c\\=d\\\\e,proto=daly ms=1i,soc_pct=55i,inv_cvl_mv=56800i,"
	                    "inv_pack1_ok=1i,inv_pack2_ok=0i,inv_pack1_age_ms=10i,inv_pack2_age_ms=4000i 7\n");
	cJSON_Delete(s);
}

/* A line that does not fit is dropped whole: half a line would be a wrong point in the database. */
static void influx_never_cuts_a_line(void **unused)
{
	cJSON *s = out_state_from_line("BMSRIG {\"proto\":\"jbd\",\"pack_mv\":13220}", "x");
	char line[512];
	size_t full;

	(void)unused;
	full = out_influx_line(line, sizeof line, s, 1);
	assert_string_equal(line, "bmsrig,id=x,proto=jbd pack_mv=13220i 1\n");
	assert_int_equal(out_influx_line(line, full, s, 1), 0);   /* no room for the terminator */
	assert_int_equal(out_influx_line(line, full + 1, s, 1), full);
	cJSON_Delete(s);
}

static void host_port(void **unused)
{
	char host[16], err[128];
	uint16_t port = 0;

	(void)unused;
	assert_true(out_host_port("127.0.0.1:1883", host, sizeof host, &port, err, sizeof err));
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 1883);
	assert_true(out_host_port("[::1]:80", host, sizeof host, &port, err, sizeof err));
	assert_string_equal(host, "[::1]");
	assert_false(out_host_port("localhost", host, sizeof host, &port, err, sizeof err));
	assert_string_equal(err, "expected HOST:PORT, got \"localhost\"");
	assert_false(out_host_port("h:0", host, sizeof host, &port, err, sizeof err));
	assert_false(out_host_port("h:65536", host, sizeof host, &port, err, sizeof err));
	assert_false(out_host_port("h:-1", host, sizeof host, &port, err, sizeof err));
	assert_false(out_host_port("h:1x", host, sizeof host, &port, err, sizeof err));
	assert_false(out_host_port(":1", host, sizeof host, &port, err, sizeof err));
	assert_false(out_host_port("a-very-long-host-name:1", host, sizeof host, &port, err, sizeof err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(state_is_the_line_plus_id_and_bit_names),
		cmocka_unit_test(other_lines_are_no_state),
		cmocka_unit_test(influx_line_of_a_lone_bms),
		cmocka_unit_test(influx_escapes_tags_and_prefixes_the_bridge_record),
		cmocka_unit_test(influx_never_cuts_a_line),
		cmocka_unit_test(host_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
