package reports

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// An undefined or infinite figure never prints as "NaN", "$NaN" or "+Inf"
// in a document; machines get it as missing (ValNull).
func TestNonFiniteFiguresPrintNoNaN(t *testing.T) {
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for name, text := range map[string]string{
			"usd": usd(x), "secs": secs(x), "pct": pct(x), "num": num(x, 2),
		} {
			assert.NotContains(t, strings.ToLower(text), "nan", "%s(%g) = %q", name, x, text)
			assert.NotContains(t, strings.ToLower(text), "inf", "%s(%g) = %q", name, x, text)
			assert.NotEmpty(t, text)
		}
		for _, c := range []Cell{usdc(x), secc(x), pctc(x), numc(x, 1)} {
			assert.Equal(t, ValNull, c.Val.Kind, "%g", x)
		}
	}
	assert.Equal(t, "∞", usd(math.Inf(1)))
	assert.Equal(t, "-∞", usd(math.Inf(-1)))
	assert.Equal(t, "-", usd(math.NaN()))
}
