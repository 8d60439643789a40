package phone

import (
	"math"
	"sync"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/phone/media"
	"github.com/dialtone/dialtone/phone/quality"
)

// CallQuality is a finished call's quality summary, from the E-model estimates of its media
// statistics (phone/quality): what the history keeps.
type CallQuality struct {
	Codec     string        // the codec rated last
	MOSMin    float64       // the worst ~5 s window
	MOSAvg    float64       // over the call, weighted by packets
	LossPct   float64       // frames lost at playout (never arrived or too late), whole call
	JitterMax time.Duration // the highest interarrival jitter reported
	RTT       time.Duration // mean round trip from RTCP; 0 if never measured
}

// callRating follows one call's statistics with a quality.Tracker. publishStats (the call's
// own goroutine) adds to it and end reads the summary; the mutex keeps the two apart should
// they ever run elsewhere.
type callRating struct {
	mu    sync.Mutex
	tr    *quality.Tracker
	codec string
	// held: the call was on hold (either side) at some point since the last report. No audio
	// flows then by design, and the jitter buffer counts the stream's end as missing frames:
	// such a window is skipped, not rated as loss.
	held bool
}

// observe notes a status change of the call (Phone.update): a hold marks the window.
func (q *callRating) observe(s CallStatus) {
	if onHold(s) {
		q.mu.Lock()
		q.held = true
		q.mu.Unlock()
	}
}

func onHold(s CallStatus) bool {
	return s.Held || s.RemoteHeld || s.State == CallHolding || s.State == CallHeld
}

// rate adds a statistics report and returns the E-model's R and MOS for the window it
// closes (MOS rounded to 2 decimals), both 0 while nothing was expected yet.
func (q *callRating) rate(codecName string, held bool, st media.Stats, playout time.Duration) (r, mos float64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	c := quality.CodecFor(codecName)
	if q.tr == nil {
		q.tr = quality.NewTracker(c, codec.FrameMillis*time.Millisecond)
	} else if codecName != q.codec {
		q.tr.SetCodec(c) // a re-INVITE changed the codec
	}
	q.codec = codecName
	q.tr.SetFrame(st.PacketDuration) // the far end's packets: 20 ms, or what it sends instead
	sample := quality.Sample{Received: st.PacketsReceived, Lost: st.Lost, Late: st.Late,
		Jitter: st.Jitter, RTT: st.RTT, Playout: playout}
	var rt quality.Rating
	var ok bool
	if q.held || held {
		rt, ok = q.tr.Skip(sample)
	} else {
		rt, ok = q.tr.Add(sample)
	}
	q.held = held
	if !ok {
		return 0, 0
	}
	return math.Round(rt.R*10) / 10, math.Round(rt.MOS*100) / 100
}

// summary is the call's quality, nil when no statistics were ever rated (no media).
func (q *callRating) summary() *CallQuality {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.tr == nil {
		return nil
	}
	s, ok := q.tr.Summary()
	if !ok {
		return nil
	}
	r2 := func(v float64) float64 { return math.Round(v*100) / 100 }
	return &CallQuality{Codec: q.codec, MOSMin: r2(s.MOSMin), MOSAvg: r2(s.MOSAvg), LossPct: math.Round(s.LossPct*1000) / 1000,
		JitterMax: s.JitterMax, RTT: s.RTT}
}

// rateStats rates a call's latest statistics with the codec its status shows.
func (c *call) rateStats(ms *media.Session, st media.Stats) (r, mos float64) {
	c.mu.Lock()
	name, held := c.status.Codec, onHold(c.status)
	c.mu.Unlock()
	return c.rating.rate(name, held, st, ms.PlayoutDelay())
}
