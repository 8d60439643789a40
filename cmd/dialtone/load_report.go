package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/quality"
	"github.com/dialtone/dialtone/ui/common"
)

// loadCall is what `dialtone load` learnt about one call: its "call" NDJSON line.
type loadCall struct {
	Event    string `json:"event"` // "call"
	Time     string `json:"time"`
	Index    int    `json:"index"` // 1-based, in the order the calls were placed
	CallID   string `json:"call_id"`
	Answered bool   `json:"answered"`
	Code     int    `json:"code"` // final response to the INVITE (200 when answered), 0 if none arrived
	Reason   string `json:"reason,omitempty"`
	Failure  string `json:"failure,omitempty"`
	Error    string `json:"error,omitempty"`
	By       string `json:"by,omitempty"`
	// Cancelled: Ctrl-C hung the call up before it was answered; not counted as failed.
	Cancelled bool     `json:"cancelled,omitempty"`
	SetupMs   *float64 `json:"setup_ms,omitempty"` // Dial (DNS, RTP ports, STUN/TURN, then the INVITE) to the 2xx; absent when not answered
	Duration  float64  `json:"duration"`           // seconds answered

	PacketsSent     uint64  `json:"packets_sent"`
	PacketsReceived uint64  `json:"packets_received"`
	Lost            uint64  `json:"lost"`     // 20 ms frames missing at playout: never arrived, or too late
	Late            uint64  `json:"late"`     // packets that arrived after their playout time
	NetLost         uint64  `json:"net_lost"` // lost - late: packets that never arrived
	LossPct         float64 `json:"loss_pct"` // lost over the frames expected; what --max-loss and the MOS use
	NetLossPct      float64 `json:"net_loss_pct"`
	Concealed       uint64  `json:"concealed"`
	JitterMs        float64 `json:"jitter_ms"`
	RTTMs           float64 `json:"rtt_ms"`
	MOS             float64 `json:"mos,omitempty"` // E-model estimate (see mosEstimate); absent when not answered

	ok    bool // answered and ended without a failure
	setup time.Duration
}

// finishLoadCall fills c from the call's final status and its last media statistics.
func finishLoadCall(c *loadCall, s phone.CallStatus, st *phone.StreamStats) {
	c.Event, c.Time = "call", stamp(s.Time)
	c.Reason, c.By = s.Reason, s.By
	if s.Failure != phone.NoFailure {
		c.Failure = s.Failure.String()
	}
	if s.Err != nil {
		c.Error = s.Err.Error()
	}
	if !s.Answered.IsZero() {
		c.Answered, c.Code = true, 200
		c.setup = s.Answered.Sub(s.Started)
		ms := durMs(c.setup)
		c.SetupMs = &ms
		c.Duration = math.Round(s.Duration().Seconds()*1000) / 1000
	} else {
		c.Code = s.Code
	}
	c.ok = c.Answered && s.Failure == phone.NoFailure
	if st != nil {
		c.PacketsSent, c.PacketsReceived = st.PacketsSent, st.PacketsReceived
		c.Late, c.Concealed = st.Late, st.Concealed
		// The jitter buffer stops counting an outage as loss after half a second (it cannot
		// tell one from a silence); the sequence numbers count it whole.
		c.NetLost = max(st.Lost-min(st.Late, st.Lost), st.NeverArrived)
		c.Lost = max(st.Lost, c.NetLost+st.Late)
		c.LossPct, c.NetLossPct = lossPct(c.Lost, st.PacketsReceived, c.NetLost), lossPct(c.NetLost, st.PacketsReceived, c.NetLost)
		c.JitterMs, c.RTTMs = round3(durMs(st.Jitter)), round3(durMs(st.RTT))
	}
	if c.ok && c.PacketsReceived == 0 && c.Duration >= noMediaAfter.Seconds() {
		// Nothing came back in the whole call: no loss to count, and no call either.
		c.ok, c.Failure, c.LossPct, c.NetLossPct = false, phone.FailureMedia.String(), 100, 100
		if c.Reason == "" {
			c.Reason = "no RTP from the far end"
		} else {
			c.Reason = "no RTP from the far end (" + c.Reason + ")"
		}
	}
	if c.Answered {
		c.MOS = math.Round(mosEstimate(c.LossPct, s.Codec, st)*100) / 100
	}
}

// noMediaAfter is how long an answered call may go without a packet from the far end before
// load counts it failed (media): a far end's first packet comes within a frame or two.
const noMediaAfter = time.Second

// lossPct is lost as a share of the packets expected: those received (late ones included)
// and those that never arrived (RFC 3550's expected count).
func lossPct(lost, received, never uint64) float64 {
	if received+never == 0 {
		return 0
	}
	return round3(100 * min(1, float64(lost)/float64(received+never)))
}

// mosEstimate is phone/quality's E-model (ITU-T G.107; see that package) for the whole
// call: its loss at playout, and the one-way delay its last statistics imply (half the RTT, a
// jitter buffer of about twice the jitter, one 20 ms frame, the codec's lookahead).
func mosEstimate(lossPercent float64, codec string, st *phone.StreamStats) float64 {
	var rtt, jitter time.Duration
	if st != nil {
		rtt, jitter = st.RTT, st.Jitter
	}
	c := quality.CodecFor(codec)
	d := quality.OneWayDelay(rtt, 0, jitter, 20*time.Millisecond, c)
	return quality.Estimate(quality.Input{Codec: c, LossPct: lossPercent, DelayMs: durMs(d)}).MOS
}

// loadSummary is the last NDJSON line of `dialtone load`: the whole run.
type loadSummary struct {
	Event     string         `json:"event"` // "summary"
	Time      string         `json:"time"`
	Target    string         `json:"target"`
	Requested int            `json:"requested"`
	Attempted int            `json:"attempted"`
	Answered  int            `json:"answered"`
	Failed    int            `json:"failed"`    // not answered, or ended with a failure
	Cancelled int            `json:"cancelled"` // hung up by Ctrl-C before an answer
	Codes     map[string]int `json:"codes"`     // final response code (0: none arrived) -> calls
	Peak      int            `json:"peak_concurrent"`
	Seconds   float64        `json:"seconds"` // wall time of the run

	SetupP50 float64 `json:"setup_p50_ms"`
	SetupP95 float64 `json:"setup_p95_ms"`
	SetupP99 float64 `json:"setup_p99_ms"`
	SetupMax float64 `json:"setup_max_ms"`

	PacketsSent     uint64  `json:"packets_sent"`
	PacketsReceived uint64  `json:"packets_received"`
	Lost            uint64  `json:"lost"`
	Late            uint64  `json:"late"`
	NetLost         uint64  `json:"net_lost"`
	LossPct         float64 `json:"loss_pct"`     // all calls together
	NetLossPct      float64 `json:"net_loss_pct"` // all calls together, late packets not counted
	LossMaxPct      float64 `json:"loss_max_pct"` // the worst call
	OverLoss        int     `json:"over_max_loss"`
	JitterP50       float64 `json:"jitter_p50_ms"`
	JitterP99       float64 `json:"jitter_p99_ms"`
	JitterMax       float64 `json:"jitter_max_ms"`
	MOSMin          float64 `json:"mos_min"`
	MOSMedian       float64 `json:"mos_median"`

	Pacer *loadPacer `json:"pacer,omitempty"` // this process's shared media pacer, when it has one
}

// summarise folds the calls into the summary; maxLoss is --max-loss in percent.
func summarise(calls []*loadCall, maxLoss float64) loadSummary {
	s := loadSummary{Event: "summary", Codes: map[string]int{}, Attempted: len(calls)}
	var setup, jitter, mos []float64
	for _, c := range calls {
		s.Codes[fmt.Sprint(c.Code)]++
		if c.Answered {
			s.Answered++
			setup = append(setup, *c.SetupMs)
			jitter = append(jitter, c.JitterMs)
			mos = append(mos, c.MOS)
		}
		switch {
		case c.Cancelled:
			s.Cancelled++
		case !c.ok:
			s.Failed++
		}
		if c.LossPct > maxLoss {
			s.OverLoss++
		}
		s.PacketsSent += c.PacketsSent
		s.PacketsReceived += c.PacketsReceived
		s.Lost += c.Lost
		s.Late += c.Late
		s.NetLost += c.NetLost
		s.LossMaxPct = max(s.LossMaxPct, c.LossPct)
	}
	s.LossPct, s.NetLossPct = lossPct(s.Lost, s.PacketsReceived, s.NetLost), lossPct(s.NetLost, s.PacketsReceived, s.NetLost)
	sort.Float64s(setup)
	sort.Float64s(jitter)
	sort.Float64s(mos)
	s.SetupP50, s.SetupP95, s.SetupP99 = pct(setup, 50), pct(setup, 95), pct(setup, 99)
	s.SetupMax, s.JitterMax = pct(setup, 100), pct(jitter, 100)
	s.JitterP50, s.JitterP99 = pct(jitter, 50), pct(jitter, 99)
	s.MOSMin, s.MOSMedian = pct(mos, 0), pct(mos, 50)
	return s
}

// pct is the nearest-rank percentile of sorted values (0 for none).
func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return round3(sorted[min(max(i, 0), len(sorted)-1)])
}

func durMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// writeJSONLine prints one NDJSON object.
func writeJSONLine(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil { // cannot happen for these structs; say so rather than print nothing
		b = []byte(fmt.Sprintf(`{"event":"error","error":%q}`, err.Error()))
	}
	fmt.Fprintf(w, "%s\n", b)
}

// printFailedCall is the human line for a call that did not go well.
func printFailedCall(w io.Writer, c *loadCall) {
	how := c.Reason
	if c.Code != 0 && !c.Answered {
		how = fmt.Sprintf("%d %s", c.Code, c.Reason)
	}
	if c.Error != "" {
		how += ": " + c.Error
	}
	fmt.Fprintf(w, "call %d (%s) failed: %s\n", c.Index, c.CallID, common.Clean(strings.TrimSpace(how))) // the far end's reason phrase
}

// printSummary is the table for people.
func printSummary(w io.Writer, s loadSummary, maxLoss float64) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	codes := make([]string, 0, len(s.Codes))
	for k := range s.Codes {
		codes = append(codes, k)
	}
	slices.Sort(codes)
	var cs []string
	for _, k := range codes {
		cs = append(cs, fmt.Sprintf("%s×%d", k, s.Codes[k]))
	}
	fmt.Fprintf(tw, "target\t%s\n", s.Target)
	fmt.Fprintf(tw, "calls\t%d attempted of %d, %d answered, %d failed, %d cancelled (final codes %s), peak %d at once, %.1f s\n",
		s.Attempted, s.Requested, s.Answered, s.Failed, s.Cancelled, strings.Join(cs, " "), s.Peak, s.Seconds)
	fmt.Fprintf(tw, "setup (INVITE to 200)\tp50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms\n", s.SetupP50, s.SetupP95, s.SetupP99, s.SetupMax)
	fmt.Fprintf(tw, "packets\t%d sent, %d received, %d never arrived (%.3f %%)\n", s.PacketsSent, s.PacketsReceived, s.NetLost, s.NetLossPct)
	fmt.Fprintf(tw, "loss at playout\t%d frames (%d late), %.3f %%; worst call %.3f %%, %d over --max-loss %g %%\n",
		s.Lost, s.Late, s.LossPct, s.LossMaxPct, s.OverLoss, maxLoss)
	fmt.Fprintf(tw, "jitter\tp50 %.2f ms, p99 %.2f ms, max %.2f ms\n", s.JitterP50, s.JitterP99, s.JitterMax)
	fmt.Fprintf(tw, "MOS (E-model estimate)\tmin %.2f, median %.2f\n", s.MOSMin, s.MOSMedian)
	if s.Pacer != nil {
		fmt.Fprintf(tw, "send lateness (pacer)\tp50 %.2f ms, p99 %.2f ms, max %.2f ms over %d frames, %d overruns\n",
			s.Pacer.LateP50, s.Pacer.LateP99, s.Pacer.LateMax, s.Pacer.Frames, s.Pacer.Overruns)
		if st := s.Pacer.Steady; st != nil {
			fmt.Fprintf(tw, "  with every call up\tp50 %.2f ms, p99 %.2f ms over %d frames in %.1f s\n", st.LateP50, st.LateP99, st.Frames, st.Seconds)
		}
	}
	tw.Flush()
}
