/* The protocol-neutral view of a pack that the firmware core works on. Every client fills one;
 * policy and telemetry read only this. */
#ifndef BMSRIG_PACK_STATE_H
#define BMSRIG_PACK_STATE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PACK_CELLS_MAX 32u
#define PACK_TEMPS_MAX 8u
#define PACK_DK_ZERO_C 2731u      /* 0 degC in 0.1 K, the protocols' own offset */

/* Normalised protection bits (telemetry `prot`). */
enum pack_prot {
	PACK_PROT_CELL_OV  = 1u << 0,
	PACK_PROT_CELL_UV  = 1u << 1,
	PACK_PROT_PACK_OV  = 1u << 2,
	PACK_PROT_PACK_UV  = 1u << 3,
	PACK_PROT_CHG_OT   = 1u << 4,
	PACK_PROT_CHG_UT   = 1u << 5,
	PACK_PROT_DSG_OT   = 1u << 6,
	PACK_PROT_DSG_UT   = 1u << 7,
	PACK_PROT_CHG_OC   = 1u << 8,
	PACK_PROT_DSG_OC   = 1u << 9,
	PACK_PROT_SHORT    = 1u << 10,
	PACK_PROT_AFE      = 1u << 11,
	PACK_PROT_SW_LOCK  = 1u << 12
};

struct pack_state {
	uint32_t pack_mV;
	int32_t current_mA;          /* + = charging */
	uint8_t soc_pct;
	uint8_t cell_count;
	uint16_t cell_mV[PACK_CELLS_MAX];
	uint8_t temp_count;
	uint16_t temp_dK[PACK_TEMPS_MAX];
	uint8_t fet_chg, fet_dsg;    /* 1 = on */
	uint32_t prot;               /* enum pack_prot bits */
	uint32_t bal_mask;           /* bit 0 = cell 1 */
	uint32_t remain_mAh, full_mAh;
	uint16_t cycles;
	uint32_t updated_ms;         /* DUT clock when the last complete cycle landed */
};

#ifdef __cplusplus
}
#endif

#endif
