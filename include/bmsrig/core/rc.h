/* One return-code enum for every bmsrig module (libserialport's sp_return is the model). */
#ifndef BMSRIG_RC_H
#define BMSRIG_RC_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum rig_rc {
	RIG_MORE = 1,                /* not an error: nothing complete yet, feed more input */
	RIG_OK = 0,
	RIG_ERR_ARG = -1,            /* caller passed something out of range */
	RIG_ERR_LENGTH = -2,         /* a frame or field has the wrong length */
	RIG_ERR_CHECKSUM = -3,
	RIG_ERR_FRAME = -4,          /* start/stop byte or structure wrong */
	RIG_ERR_STATUS = -5,         /* the device answered with an error status */
	RIG_ERR_TIMEOUT = -6,
	RIG_ERR_SPACE = -7,          /* output buffer too small */
	RIG_ERR_UNSUPPORTED = -8,    /* a valid frame this module does not handle */
	RIG_ERR_IO = -9,
	RIG_ERR_STATE = -10,         /* call not allowed in the current state */
} rig_rc;

/* A short English phrase for rc, never NULL. */
const char *rig_rc_str(rig_rc rc);

#ifdef __cplusplus
}
#endif

#endif
