package phone

// answerStack is about the stack an incoming call's goroutine needs until its 200 OK is out.
// sipgo starts a goroutine of a few KB for every request, and the runtime doubles a stack
// that runs out, copying every frame on it each time (walking each frame's tables): the
// answer's path grew it twice, deep inside checkOffer and prepare, ~30 µs of INVITE → 200 OK
// on a CPU that had slept since the last call. Grown to this once, at the handler's first
// frame where the stack is shallow, it costs ~12 µs and never again
// (BenchmarkAutoAnswerPaced). CockroachDB does the same on its storage paths.
const answerStack = 8 << 10

// growStack makes the runtime grow the calling goroutine's stack to hold a frame of
// answerStack bytes now, and so at least twice that.
//
//go:noinline
func growStack() byte {
	var frame [answerStack]byte
	return keepFrame(frame[:])
}

// keepFrame reads the frame, so the compiler keeps it whole on the stack.
//
//go:noinline
func keepFrame(b []byte) byte { return b[len(b)-1] }
