package reports

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

func TestProviderColoursAreFixedByKind(t *testing.T) {
	aws := ProviderColour("bedrock")
	assert.Equal(t, color.NRGBA{R: 230, G: 159, B: 0, A: 255}, aws, "AWS is Okabe–Ito orange")
	assert.Equal(t, aws, ProviderColour("aws"))
	assert.Equal(t, aws, ProviderColour("AgentCore"))
	assert.Equal(t, color.NRGBA{R: 0, G: 114, B: 178, A: 255}, ProviderColour("azure"))
	assert.Equal(t, colourGeneric, ProviderColour("generic"))
	for _, s := range strategyColours {
		for _, k := range []string{"azure", "bedrock", "generic"} {
			assert.Greater(t, oklabDistance(s, ProviderColour(k)), 0.1, "strategy colour %v too near provider %s", s, k)
		}
	}
	// Shades keep the provider's hue and are told apart from one another.
	for _, k := range []string{"azure", "bedrock", "generic"} {
		_, _, h0 := toOKLCH(ProviderColour(k))
		for i := range nShades {
			a := shade(ProviderColour(k), i)
			if _, C, h := toOKLCH(a); k != "generic" {
				assert.Greater(t, C, 0.04, "%s shade %d keeps a colour", k, i)
				assert.InDelta(t, h0, h, 8, "%s shade %d keeps the hue", k, i)
			}
			for j := i + 1; j < nShades; j++ {
				assert.Greater(t, oklabDistance(a, shade(ProviderColour(k), j)), 0.04, "%s shades %d and %d", k, i, j)
			}
		}
	}
	// Layer shades differ from one another.
	for _, k := range []string{"azure", "bedrock", "generic"} {
		assert.Equal(t, ProviderColour(k), ProviderLayer(k, "model"))
		for i, a := range Layers {
			for _, b := range Layers[i+1:] {
				assert.Greater(t, oklabDistance(ProviderLayer(k, a), ProviderLayer(k, b)), 0.04, "%s: %s and %s", k, a, b)
			}
		}
	}
}

func TestOKLCHRoundTrips(t *testing.T) {
	for _, c := range append(slices.Clone(strategyColours), colourAzure, colourAWS, colourGeneric) {
		got, ok := fromOKLCH(toOKLCH(c))
		assert.True(t, ok)
		assert.Equal(t, c, got)
	}
}

func libraryPalette(t *testing.T, name string) (*scenarios.Scenario, *Palette) {
	t.Helper()
	sc, err := scenarios.Open(name)
	require.NoError(t, err)
	return sc, scenarioPalette(sc)
}

var library = []string{"demo", "multi-home", "federated", "gov-fedramp", "azure-exclusive"}

// TestLibraryColoursAreDistinctAndShared: within every library scenario no
// two deployments and no two strategies share a colour; across scenarios a
// deployment (same provider, name and region) or a strategy of the same name
// has one colour.
func TestLibraryColoursAreDistinctAndShared(t *testing.T) {
	depColour := map[string]color.NRGBA{}
	stratColour := map[string]color.NRGBA{}
	for _, name := range library {
		sc, p := libraryPalette(t, name)
		for i, a := range sc.Deployments {
			ca := p.Deployment(a.Name)
			for _, b := range sc.Deployments[i+1:] {
				assert.Greater(t, oklabDistance(ca, p.Deployment(b.Name)), 0.04, "%s: deployments %s and %s look alike", name, a.Name, b.Name)
			}
			key := a.Provider + "/" + a.Name + "/" + a.Region
			if c, ok := depColour[key]; ok {
				assert.Equal(t, c, ca, "%s: deployment %s changed colour between scenarios", name, key)
			}
			depColour[key] = ca
		}
		for i, a := range sc.Strategies {
			ca := p.Strategy(a.Name)
			for _, b := range sc.Strategies[i+1:] {
				assert.NotEqual(t, ca, p.Strategy(b.Name), "%s: strategies %s and %s", name, a.Name, b.Name)
			}
			if c, ok := stratColour[a.Name]; ok {
				assert.Equal(t, c, ca, "%s: strategy %s changed colour between scenarios", name, a.Name)
			}
			stratColour[a.Name] = ca
		}
	}
}

// TestColoursDoNotDependOnOrder: reversing the scenario's lists keeps every
// colour, and a collision is resolved by name, not position.
func TestColoursDoNotDependOnOrder(t *testing.T) {
	for _, name := range library {
		sc, p := libraryPalette(t, name)
		rev := *sc
		rev.Strategies = slices.Clone(sc.Strategies)
		rev.Deployments = slices.Clone(sc.Deployments)
		rev.Providers = slices.Clone(sc.Providers)
		slices.Reverse(rev.Strategies)
		slices.Reverse(rev.Deployments)
		slices.Reverse(rev.Providers)
		q := scenarioPalette(&rev)
		for _, d := range sc.Deployments {
			assert.Equal(t, p.Deployment(d.Name), q.Deployment(d.Name), "%s: %s", name, d.Name)
		}
		for _, s := range sc.Strategies {
			assert.Equal(t, p.Strategy(s.Name), q.Strategy(s.Name), "%s: %s", name, s.Name)
		}
	}
	// More strategies than colours: the ones past the palette share, the
	// first (by name) are all different whatever the order.
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}
	require.Greater(t, len(names), len(strategyColours))
	slots := assignSlots(names, len(strategyColours))
	seen := map[int]bool{}
	for _, n := range names[:len(strategyColours)] {
		assert.False(t, seen[slots[n]], n)
		seen[slots[n]] = true
	}
	rev := slices.Clone(names)
	slices.Reverse(rev)
	assert.Equal(t, slots, assignSlots(rev, len(strategyColours)))
}

// TestTwoRunsShareColours: a simulation of the demo with a third strategy,
// and a load test of one strategy of the demo declared in the reverse order:
// the figures of both reports draw the strategy and the provider in the
// same colours.
func TestTwoRunsShareColours(t *testing.T) {
	sc1 := smallDemo(t)
	sc1.Strategies = append(sc1.Strategies, scenarios.Strategy{Name: "bedrock-only", Placement: map[string][]string{"model": {"bedrock-use1"}},
		Routing: sc1.Strategies[0].Routing})
	an1 := analyzeFixture(t, &fixture{sc: sc1, records: synthRecords(sc1, 2, 1500, 3)}, DefaultOptions())

	sc2 := smallDemo(t)
	slices.Reverse(sc2.Strategies)
	slices.Reverse(sc2.Deployments)
	slices.Reverse(sc2.Providers)
	var recs []results.Outcome
	for _, o := range synthRecords(sc2, 1, 1500, 9) {
		if o.Strategy == "azure-bedrock-split" {
			recs = append(recs, o)
		}
	}
	an2 := analyzeFixture(t, &fixture{sc: sc2, source: "load", records: recs}, DefaultOptions())
	require.Len(t, an2.Strategies, 1)

	p1, p2 := an1.palette(), an2.palette()
	for _, d := range sc2.Deployments {
		assert.Equal(t, p1.Deployment(d.Name), p2.Deployment(d.Name), d.Name)
	}
	split := p1.Strategy("azure-bedrock-split")
	assert.Equal(t, split, p2.Strategy("azure-bedrock-split"))

	// The figures use them: solid bars in the HHI figure (strategies) and
	// the cost figure (provider × layer) carry the exact colours.
	fig := func(an *Analysis, id string) image.Image {
		for _, f := range an.Figures() {
			if f.ID == id {
				require.Empty(t, f.Missing, id)
				img, err := png.Decode(bytes.NewReader(f.PNG))
				require.NoError(t, err)
				return img
			}
		}
		t.Fatalf("no figure %s", id)
		return nil
	}
	awsModel := ProviderLayer("bedrock", "model")
	for i, an := range []*Analysis{an1, an2} {
		assert.True(t, hasColour(fig(an, FigHHIByLayer), split), "run %d: HHI bars of azure-bedrock-split", i+1)
		assert.True(t, hasColour(fig(an, FigCostBreakdown), awsModel), "run %d: AWS model spend", i+1)
		assert.True(t, hasColour(fig(an, FigCostBreakdown), ProviderColour("azure")), "run %d: Azure model spend", i+1)
	}
	assert.True(t, hasColour(fig(an1, FigHHIByLayer), p1.Strategy("bedrock-only")))
	assert.False(t, hasColour(fig(an2, FigHHIByLayer), p1.Strategy("azure-failover")), "a strategy without records is not drawn")
}

// hasColour reports whether at least 20 pixels are exactly c.
func hasColour(img image.Image, c color.NRGBA) bool {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA) == c {
				n++
			}
		}
	}
	return n >= 20
}

// oklabDistance is the perceptual distance between two colours (about
// 0.02 is a just-noticeable difference).
func oklabDistance(x, y color.NRGBA) float64 {
	L1, C1, h1 := toOKLCH(x)
	L2, C2, h2 := toOKLCH(y)
	a1, b1 := C1*math.Cos(h1*math.Pi/180), C1*math.Sin(h1*math.Pi/180)
	a2, b2 := C2*math.Cos(h2*math.Pi/180), C2*math.Sin(h2*math.Pi/180)
	return math.Sqrt((L1-L2)*(L1-L2) + (a1-a2)*(a1-a2) + (b1-b2)*(b1-b2))
}
