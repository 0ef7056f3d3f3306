package threshold

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		expr   string
		figure string
		op     Op
		limit  float64
	}{
		{"e2e.p99<2s", "e2e.p99", Less, 2},
		{"e2e.p99 < 250ms", "e2e.p99", Less, 0.25},
		{"ttft.mean<=1m30s", "ttft.mean", LessEqual, 90},
		{"ttft_seconds.p99<1.5", "ttft.p99", Less, 1.5},
		{"wait.mean<500us", "wait.mean", Less, 0.0005},
		{"error_rate<1%", "error_rate", Less, 0.01},
		{"error_rate<0.01", "error_rate", Less, 0.01},
		{"availability>=99.9%", "availability", GreaterEqual, 0.999},
		{"p_wait>0.2", "p_wait", Greater, 0.2},
		{"throughput_rps>=40", "throughput_rps", GreaterEqual, 40},
		{"cost_per_successful_request<0.01", "cost_per_successful_request", Less, 0.01},
		{"token_cost_per_successful_request_usd<$0.01", "cost_per_successful_request", Less, 0.01},
		{"requests==1000", "requests", Equal, 1000},
		{"slo_attainment >= 95%", "slo_attainment", GreaterEqual, 0.95},
	} {
		th, err := Parse(tc.expr)
		require.NoError(t, err, tc.expr)
		assert.Equal(t, tc.figure, th.Figure.Name, tc.expr)
		assert.Equal(t, tc.op, th.Op, tc.expr)
		assert.InDelta(t, tc.limit, th.Limit, 1e-12, tc.expr)
		assert.Equal(t, tc.expr, th.Expr)
	}
}

func TestParseRefuses(t *testing.T) {
	for expr, rule := range map[string]string{
		"":                               "no comparison",
		"e2e.p99":                        "no comparison",
		"e2e.p99 2s":                     "no comparison",
		"e2e.p99=2s":                     `operator "=" is not one of`,
		"e2e.p99!=2s":                    "!= is not supported",
		"e2e.p99=<2s":                    `operator "=" is not one of`,
		"<2s":                            "no figure before <",
		"e2e.p98<2s":                     `unknown figure "e2e.p98"`,
		"E2E.p99<2s":                     `unknown figure "E2E.p99"`,
		"e2e.p99<":                       "no value after <",
		"e2e.p99<<2s":                    "more than one comparison",
		"1s<e2e.p99<2s":                  `unknown figure "1s"`,
		"e2e.p99<2parsecs":               `value "2parsecs" is not a duration`,
		"e2e.p99<1%":                     "e2e.p99 is a time",
		"e2e.p99<-2s":                    "negative",
		"e2e.p99<NaN":                    "not a number",
		"e2e.p99<Inf":                    "not a number",
		"error_rate<2s":                  "error_rate is a share",
		"error_rate<5":                   "more than 1 (for a percentage write 5%)",
		"error_rate<101%":                "more than 100%",
		"error_rate<abc%":                `value "abc" is not a number`,
		"throughput_rps>0x10":            "not a number",
		"throughput_rps>1_000":           "not a number",
		"cost_per_successful_request<1%": "in US dollars",
		strings.Repeat("a", 300):         "longer than 200 characters",
	} {
		_, err := Parse(expr)
		require.Error(t, err, expr)
		var te *Error
		require.True(t, errors.As(err, &te), expr)
		assert.Equal(t, expr, te.Expr)
		assert.Contains(t, err.Error(), rule, expr)
		if len(expr) <= maxExprLen {
			assert.Contains(t, err.Error(), `"`+expr+`"`, "the error names the expression")
		}
	}
}

func TestParseAllStopsAtTheBadOne(t *testing.T) {
	_, err := ParseAll([]string{"e2e.p99<2s", "error_rate<<1%", "nope"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"error_rate<<1%"`)
	ts, err := ParseAll([]string{"e2e.p99<2s", "error_rate<1%"})
	require.NoError(t, err)
	assert.Len(t, ts, 2)
}

// result is a strategy's result with every figure measured.
func result() results.Result {
	wait := results.Latency{Mean: 0.1, P50: 0.05, P90: 0.2, P99: 0.4, Max: 0.9}
	return results.Result{
		Strategy: "s", Requests: 1000, Completed: 980, Rejected: 12, Failed: 5, TimedOut: 3, Attempts: 1100,
		ThroughputRPS: 49, PWait: 0.25, WaitSeconds: &wait,
		TTFTSeconds:  results.Latency{Mean: 0.3, P50: 0.25, P90: 0.6, P99: 1.2, Max: 2},
		E2ESeconds:   results.Latency{Mean: 1.1, P50: 1, P90: 1.8, P99: 2.5, Max: 4},
		TokenCostUSD: 9.8, TokenCostPer1kRequests: 9.8, TokenCostPerSuccessfulRequest: 0.01,
		Sessions: []results.SessionResult{
			{Class: "a", Sessions: 100, SLOAttainment: 0.9},
			{Class: "b", Sessions: 300, SLOAttainment: 0.5},
			{Class: "c", Sessions: 50, SLOAttainment: results.Unknown},
		},
	}
}

func TestFiguresRead(t *testing.T) {
	r := result()
	want := map[string]float64{
		"requests": 1000, "completed": 980, "error_rate": 0.02, "availability": 0.98, "rejected_rate": 0.012,
		"timed_out_rate": 0.003, "attempts_per_request": 1.1, "throughput_rps": 49, "p_wait": 0.25,
		"cost_per_successful_request": 0.01, "token_cost_usd": 9.8, "token_cost_per_1k_requests": 9.8,
		"slo_attainment": (0.9*100 + 0.5*300) / 400,
		"ttft.mean":      0.3, "ttft.p50": 0.25, "ttft.p90": 0.6, "ttft.p99": 1.2, "ttft.max": 2,
		"e2e.mean": 1.1, "e2e.p50": 1, "e2e.p90": 1.8, "e2e.p99": 2.5, "e2e.max": 4,
		"wait.mean": 0.1, "wait.p50": 0.05, "wait.p90": 0.2, "wait.p99": 0.4, "wait.max": 0.9,
	}
	assert.Len(t, Figures(), len(want), "every figure has an expected value here")
	for _, f := range Figures() {
		w, ok := want[f.Name]
		require.True(t, ok, f.Name)
		assert.InDelta(t, w, f.Read(&r), 1e-12, f.Name)
		for _, a := range f.Aliases {
			g, ok := Lookup(a)
			require.True(t, ok, a)
			assert.Equal(t, f.Name, g.Name)
		}
	}
}

func TestFiguresNotMeasured(t *testing.T) {
	// Nothing completed: latencies hold zeros that are not measurements.
	r := results.Result{Requests: 10, Failed: 10, PWait: results.Unknown,
		TokenCostPerSuccessfulRequest: results.Unknown, TokenCostUSD: results.Unknown, TokenCostPer1kRequests: results.Unknown}
	for _, name := range []string{"e2e.p99", "ttft.mean", "wait.mean", "p_wait", "cost_per_successful_request", "slo_attainment", "token_cost_usd"} {
		f, _ := Lookup(name)
		assert.True(t, math.IsNaN(f.Read(&r)), name)
	}
	f, _ := Lookup("error_rate")
	assert.Equal(t, 1.0, f.Read(&r))
	empty := results.Result{}
	assert.True(t, math.IsNaN(f.Read(&empty)), "no requests: no error rate")
}

func TestEvaluate(t *testing.T) {
	bad := result()
	bad.Strategy, bad.E2ESeconds.P99, bad.Completed = "bad", 3, 900
	s := &results.Summary{Results: []results.Result{result(), bad}}
	ts, err := ParseAll([]string{"e2e.p99<2.6s", "error_rate<5%", "cost_per_successful_request<=0.01", "p_wait<1"})
	require.NoError(t, err)
	assert.Equal(t, 2, Evaluate(ts, s))
	for i, r := range s.Results {
		require.Len(t, r.Thresholds, 4)
		for j, x := range r.Thresholds {
			assert.Equal(t, ts[j].Expr, x.Expression)
			assert.Equal(t, i == 0 || (j != 0 && j != 1), x.Pass, "%s %s", r.Strategy, x.Expression)
		}
	}
	assert.InDelta(t, 0.1, float64(s.Results[1].Thresholds[1].Value), 1e-12)

	// An unmeasured figure fails, and its value is null in summary.json.
	s.Results[0].TokenCostPerSuccessfulRequest = results.Unknown
	assert.Equal(t, 3, Evaluate(ts, s))
	b, err := json.Marshal(s.Results[0].Thresholds[2])
	require.NoError(t, err)
	assert.JSONEq(t, `{"expression":"cost_per_successful_request<=0.01","value":null,"pass":false}`, string(b))

	assert.Equal(t, 0, Evaluate(nil, s), "no thresholds: nothing checked")
}

func TestOperators(t *testing.T) {
	r := result() // e2e.p99 is 2.5
	for expr, pass := range map[string]bool{
		"e2e.p99<2.5": false, "e2e.p99<=2.5": true, "e2e.p99>2.5": false, "e2e.p99>=2.5": true, "e2e.p99==2.5": true,
		"e2e.p99<3s": true, "e2e.p99>2400ms": true, "e2e.p99==2s": false,
	} {
		th, err := Parse(expr)
		require.NoError(t, err)
		assert.Equal(t, pass, th.Check(&r).Pass, expr)
	}
}

func TestFormat(t *testing.T) {
	for name, cases := range map[string]map[float64]string{
		"e2e.p99":                     {0: "0s", 0.0005: "500µs", 0.25: "250ms", 2.5: "2.5s", 4000: "4000s", math.NaN(): "not measured"},
		"error_rate":                  {0.0123: "1.23%", 1: "100%"},
		"cost_per_successful_request": {0.01: "$0.01"},
		"throughput_rps":              {49.5: "49.5"},
	} {
		f, _ := Lookup(name)
		for v, want := range cases {
			assert.Equal(t, want, f.Format(v), "%s %v", name, v)
		}
	}
}

// FuzzThreshold: any string parses into a threshold or an *Error naming
// it, never a panic; a parsed threshold has a finite, non-negative limit
// and evaluates against a result.
func FuzzThreshold(f *testing.F) {
	for _, s := range []string{"e2e.p99<2s", "error_rate<1%", "cost_per_successful_request<0.01", "availability>=99.9%",
		"ttft.mean <= 1m30s", "p_wait==0", "e2e.p99<<2s", "x", "throughput_rps>1e308", "error_rate<%", "e2e.p99<1e400s", "<", "==", "wait.max<9223372036s"} {
		f.Add(s)
	}
	r := result()
	f.Fuzz(func(t *testing.T, expr string) {
		th, err := Parse(expr)
		if err != nil {
			var te *Error
			if !errors.As(err, &te) || te.Expr != expr || te.Rule == "" {
				t.Fatalf("Parse(%q): error %v is not an *Error naming the expression", expr, err)
			}
			return
		}
		if th.Figure == nil || math.IsNaN(th.Limit) || math.IsInf(th.Limit, 0) || th.Limit < 0 {
			t.Fatalf("Parse(%q) = %+v", expr, th)
		}
		if x := th.Check(&r); x.Expression != expr {
			t.Fatalf("Check: expression %q, want %q", x.Expression, expr)
		}
	})
}
