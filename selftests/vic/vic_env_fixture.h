/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fixture "vic" of most vic tests: a device and a pair of eventfds
 * (struct vic_env, self->e), opened before and closed after each test.
 * Include once, after vic_util.h, in a test that uses FIXTURE vic.
 */
#ifndef VIC_ENV_FIXTURE_H
#define VIC_ENV_FIXTURE_H

#include "vic_util.h"

FIXTURE(vic) {
	struct vic_env e;
};

FIXTURE_SETUP(vic)
{
	vic_env_open(_metadata, &self->e);
}

FIXTURE_TEARDOWN(vic)
{
	vic_env_close(&self->e);
}

#endif /* VIC_ENV_FIXTURE_H */
