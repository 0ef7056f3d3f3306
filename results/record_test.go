package results

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The billing rule both engines and the reports apply to an attempt.
func TestBilled(t *testing.T) {
	in, out, ok := Billed(StatusOK, 5, 100, 20)
	assert.True(t, ok)
	assert.Equal(t, [2]int64{100, 20}, [2]int64{in, out})
	_, _, ok = Billed(StatusThrottled, 0, 100, 0)
	assert.False(t, ok, "a 429 never reached the model")
	_, _, ok = Billed(StatusFailed, 0, 100, 0)
	assert.False(t, ok)
	in, out, ok = Billed(StatusFailed, 7, 100, 10)
	assert.True(t, ok, "a stream cut after its first token was processed")
	assert.Equal(t, [2]int64{100, 10}, [2]int64{in, out})
}
