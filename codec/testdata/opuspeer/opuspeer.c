/* opuspeer: libopus called straight from C, the peer of BenchmarkOpusEncode/Decode
 * (codec/opus_bench_test.go builds and runs it). It encodes or decodes the same frames with
 * the same settings as dialtone's binding and prints the mean wall and CPU nanoseconds per
 * 20 ms frame of its own loop, so the difference to the Go benchmark is the binding's overhead.
 *
 *   opuspeer enc N BITRATE COMPLEXITY LOSS < pcm.s16le      (whole 960-sample frames)
 *   opuspeer dec N < packets                                 (2-byte big-endian length, bytes)
 */
#include <opus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FRAME 960
#define MAXF 1024

static unsigned char pkts[MAXF][1500];
static int plen[MAXF];
static opus_int16 pcm[MAXF * FRAME];

static double clk(clockid_t id) {
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
	if (argc < 3) return 2;
	long n = atol(argv[2]);
	int err;
	if (strcmp(argv[1], "enc") == 0 && argc == 6) {
		size_t frames = fread(pcm, sizeof(opus_int16) * FRAME, MAXF, stdin);
		if (frames == 0) return 3;
		OpusEncoder *e = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
		if (err != OPUS_OK) return 4;
		opus_encoder_ctl(e, OPUS_SET_BITRATE(atoi(argv[3])));
		opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(atoi(argv[4])));
		opus_encoder_ctl(e, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
		opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(1));
		opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(atoi(argv[5])));
		opus_encoder_ctl(e, OPUS_SET_DTX(0));
		double t0 = clk(CLOCK_MONOTONIC), c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
		for (long i = 0; i < n; i++)
			if (opus_encode(e, pcm + (i % frames) * FRAME, FRAME, pkts[0], 320) < 0) return 5;
		printf("%.0f %.0f\n", (clk(CLOCK_MONOTONIC) - t0) / n, (clk(CLOCK_PROCESS_CPUTIME_ID) - c0) / n);
		opus_encoder_destroy(e);
		return 0;
	}
	if (strcmp(argv[1], "dec") == 0) {
		int count = 0;
		unsigned char hdr[2];
		while (count < MAXF && fread(hdr, 1, 2, stdin) == 2) {
			plen[count] = hdr[0] << 8 | hdr[1];
			if (plen[count] > 1500 || fread(pkts[count], 1, plen[count], stdin) != (size_t)plen[count]) return 3;
			count++;
		}
		if (count == 0) return 3;
		OpusDecoder *d = opus_decoder_create(48000, 1, &err);
		if (err != OPUS_OK) return 4;
		double t0 = clk(CLOCK_MONOTONIC), c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
		for (long i = 0; i < n; i++)
			if (opus_decode(d, pkts[i % count], plen[i % count], pcm, FRAME, 0) != FRAME) return 5;
		printf("%.0f %.0f\n", (clk(CLOCK_MONOTONIC) - t0) / n, (clk(CLOCK_PROCESS_CPUTIME_ID) - c0) / n);
		opus_decoder_destroy(d);
		return 0;
	}
	return 2;
}
