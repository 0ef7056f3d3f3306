package reports

import (
	"hash/fnv"
	"image/color"
	"math"
	"slices"
	"strings"

	"github.com/mcbench/mcbench/scenarios"
)

// Colours carry meaning across documents: a reader who learns in one
// figure that AWS is orange must find it orange in every figure of every
// report (simulation, load test, comparison, twin). So no colour depends on
// a position in a list (scenario order, which strategies a load test ran,
// which deployments served traffic). Providers take a fixed colour by
// kind, deployments a shade of their provider's colour chosen by a hash of
// their identity, strategies a colour from a palette that shares no hue
// with the providers, chosen by a hash of their name.
//
// Hashes collide. Within one scenario, a collision is resolved by letting
// the name that sorts first keep its colour and moving the next one to the
// following free slot: the set of names the scenario declares decides, not
// their order nor the subset a run exercised, so the sim report and the
// load report of one scenario always agree, and a name keeps its colour in
// another scenario unless it collided there.

// Provider colours by kind: Azure blue and AWS orange from the Okabe–Ito
// set (distinguishable under the common colour-vision deficiencies, and
// the providers' own brand hues), a neutral grey for a generic provider.
var (
	colourAzure   = color.NRGBA{R: 0, G: 114, B: 178, A: 255}
	colourAWS     = color.NRGBA{R: 230, G: 159, B: 0, A: 255}
	colourGeneric = color.NRGBA{R: 110, G: 110, B: 110, A: 255}
)

// strategyColours are Paul Tol's "muted" scheme without its sand (too
// near AWS orange), cyan (too near Azure's light shades) and pale grey:
// colour-blind safe, and none is a provider's hue, so a strategy's line is
// never read as a provider's.
var strategyColours = []color.NRGBA{
	{R: 204, G: 102, B: 119, A: 255}, // rose
	{R: 51, G: 34, B: 136, A: 255},   // indigo
	{R: 68, G: 170, B: 153, A: 255},  // teal
	{R: 153, G: 153, B: 51, A: 255},  // olive
	{R: 136, G: 34, B: 85, A: 255},   // wine
	{R: 170, G: 68, B: 153, A: 255},  // purple
	{R: 17, G: 119, B: 51, A: 255},   // green
}

// colourMeasured is the second series of a twin figure (the measured
// side, or E2E beside TTFT): near-black, which is neither a provider's nor
// a strategy's colour.
var colourMeasured = color.NRGBA{R: 34, G: 34, B: 34, A: 255}

// ProviderColour is the colour of a provider kind in every figure. It
// accepts the scenario kinds (azure, bedrock, generic) and the names
// readers use for them (aws, agentcore: AWS's agent runtime).
func ProviderColour(kind string) color.NRGBA {
	switch strings.ToLower(kind) {
	case scenarios.KindAzure, "azure-openai", "aoai":
		return colourAzure
	case scenarios.KindBedrock, "aws", "agentcore", "bedrock-agentcore":
		return colourAWS
	}
	return colourGeneric
}

// nShades is how many shades a provider's colour has: its own colour and
// six lighter or darker ones.
const nShades = 7

// shadeLadder are the OKLCH lightnesses a shade can take: from dark
// enough to read as the hue to light enough to show on white, 0.06 apart
// (about three just-noticeable differences).
var shadeLadder = []float64{0.32, 0.38, 0.44, 0.50, 0.56, 0.62, 0.68, 0.74, 0.80, 0.86}

// shade is shade k of a provider's colour: shade 0 is the colour itself,
// the others keep its hue and chroma (reduced until the colour fits sRGB)
// at a rung of the ladder that is not too near the colour's own
// lightness, taken in an order that puts consecutive shades far apart.
func shade(base color.NRGBA, k int) color.NRGBA {
	k %= nShades
	if k == 0 {
		return base
	}
	L0, C, h := toOKLCH(base)
	var rungs []float64
	for _, L := range shadeLadder {
		// The top rung only for a light colour (AWS orange), whose
		// lighter shades still show on white; no rung so much darker than
		// the colour that it reads as another (orange turns brown).
		if math.Abs(L-L0) >= 0.045 && L <= math.Max(0.74, L0+0.11) && L >= L0-0.26 {
			rungs = append(rungs, L)
		}
	}
	// Stepping through the rungs by a stride prime to their number visits
	// each once, alternating dark and light.
	stride := 3
	for gcd(stride, len(rungs)) != 1 {
		stride++
	}
	L := rungs[(stride*k)%len(rungs)]
	for ; C > 0; C -= 0.005 {
		if c, ok := fromOKLCH(L, C, h); ok {
			return c
		}
	}
	c, _ := fromOKLCH(L, 0, h)
	return c
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Palette assigns the colours of one run's figures.
type Palette struct {
	deployments map[string]color.NRGBA
	strategies  map[string]color.NRGBA
}

// NewPalette assigns colours to the deployments and strategies a run
// declares (pass the scenario's whole lists, not the subset with data, so
// that every report of the scenario agrees).
func NewPalette(deployments []DeploymentInfo, strategies []string) *Palette {
	p := &Palette{deployments: map[string]color.NRGBA{}, strategies: map[string]color.NRGBA{}}
	// Deployments: slots are shades within each provider kind's colour
	// (two providers of one kind share its colour, so they share slots).
	byKind := map[string][]DeploymentInfo{}
	for _, d := range deployments {
		k := kindKey(d.Kind)
		byKind[k] = append(byKind[k], d)
	}
	for k, ds := range byKind {
		keys := make([]string, len(ds))
		for i, d := range ds {
			keys[i] = deploymentKey(d)
		}
		slot := assignSlots(keys, nShades)
		for i, d := range ds {
			p.deployments[d.Name] = shade(ProviderColour(k), slot[keys[i]])
		}
	}
	slot := assignSlots(strategies, len(strategyColours))
	for _, s := range strategies {
		p.strategies[s] = strategyColours[slot[s]]
	}
	return p
}

// Deployment is a deployment's colour; one the palette was not given gets
// its preferred shade of the generic grey.
func (p *Palette) Deployment(name string) color.NRGBA {
	if c, ok := p.deployments[name]; ok {
		return c
	}
	return shade(colourGeneric, preferredSlot(name, nShades))
}

// Strategy is a strategy's colour; one the palette was not given gets its
// preferred colour.
func (p *Palette) Strategy(name string) color.NRGBA {
	if c, ok := p.strategies[name]; ok {
		return c
	}
	return strategyColours[preferredSlot(name, len(strategyColours))]
}

// ProviderLayer is the colour of a provider's spend on a layer in the cost
// figure: the provider's colour, one shade per layer.
func ProviderLayer(kind, layer string) color.NRGBA {
	return shade(ProviderColour(kind), layerIndex(layer))
}

func kindKey(kind string) string {
	switch ProviderColour(kind) {
	case colourAzure:
		return scenarios.KindAzure
	case colourAWS:
		return scenarios.KindBedrock
	}
	return scenarios.KindGeneric
}

// deploymentKey is what a deployment's shade is hashed from: its provider,
// name and region, so a renamed or moved deployment is a new colour.
func deploymentKey(d DeploymentInfo) string { return d.Provider + "\x00" + d.Name + "\x00" + d.Region }

func preferredSlot(key string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// assignSlots gives each distinct key its preferred slot; keys are taken
// in sorted order and one whose slot is taken moves to the next free one
// (when every slot is taken, it shares its preferred one).
func assignSlots(keys []string, n int) map[string]int {
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	out := make(map[string]int, len(sorted))
	used := make([]bool, n)
	for i, k := range sorted {
		s := preferredSlot(k, n)
		if i < n {
			for used[s] {
				s = (s + 1) % n
			}
			used[s] = true
		}
		out[k] = s
	}
	return out
}

// palette builds the analysis's palette from the scenario's declared
// strategies (a load test runs one of them) and deployments.
func (an *Analysis) palette() *Palette {
	var names []string
	if an.Run != nil && an.Run.Info != nil && an.Run.Scenario() != nil {
		for _, s := range an.Run.Scenario().Strategies {
			names = append(names, s.Name)
		}
	}
	for _, m := range an.Strategies {
		if !slices.Contains(names, m.Name) {
			names = append(names, m.Name)
		}
	}
	// Only declared deployments take part in the slot assignment, so the
	// simulation's and the load test's reports (whose records may name
	// different stray deployments) resolve collisions alike.
	var deps []DeploymentInfo
	for _, d := range an.Deployments {
		if d.Declared {
			deps = append(deps, d)
		}
	}
	return NewPalette(deps, names)
}

// OKLab (Björn Ottosson, 2020): a perceptual space in which equal
// lightness steps look equal, so shades of a provider's colour are evenly
// spaced to the eye.

func toOKLCH(c color.NRGBA) (L, C, h float64) {
	lin := func(v uint8) float64 {
		x := float64(v) / 255
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	r, g, b := lin(c.R), lin(c.G), lin(c.B)
	l := math.Cbrt(0.4122214708*r + 0.5363325363*g + 0.0514459929*b)
	m := math.Cbrt(0.2119034982*r + 0.6806995451*g + 0.1073969566*b)
	s := math.Cbrt(0.0883024619*r + 0.2817188376*g + 0.6299787005*b)
	L = 0.2104542553*l + 0.7936177850*m - 0.0040720468*s
	a := 1.9779984951*l - 2.4285922050*m + 0.4505937099*s
	bb := 0.0259040371*l + 0.7827717662*m - 0.8086757660*s
	return L, math.Hypot(a, bb), math.Atan2(bb, a) * 180 / math.Pi
}

// fromOKLCH converts to sRGB; ok is false when the colour is outside it.
func fromOKLCH(L, C, h float64) (color.NRGBA, bool) {
	a, b := C*math.Cos(h*math.Pi/180), C*math.Sin(h*math.Pi/180)
	l := L + 0.3963377774*a + 0.2158037573*b
	m := L - 0.1055613458*a - 0.0638541728*b
	s := L - 0.0894841775*a - 1.2914855480*b
	l, m, s = l*l*l, m*m*m, s*s*s
	rgb := [3]float64{
		4.0767416621*l - 3.3077115913*m + 0.2309699292*s,
		-1.2684380046*l + 2.6097574011*m - 0.3413193965*s,
		-0.0041960863*l - 0.7034186147*m + 1.7076147010*s,
	}
	var out [3]uint8
	ok := true
	for i, x := range rgb {
		if x < -1e-4 || x > 1+1e-4 {
			ok = false
		}
		x = math.Min(math.Max(x, 0), 1)
		if x <= 0.0031308 {
			x *= 12.92
		} else {
			x = 1.055*math.Pow(x, 1/2.4) - 0.055
		}
		out[i] = uint8(math.Round(x * 255))
	}
	return color.NRGBA{R: out[0], G: out[1], B: out[2], A: 255}, ok
}

// scenarioPalette is the palette of a scenario's declared strategies and
// deployments, for documents built without an Analysis (the twin).
func scenarioPalette(sc *scenarios.Scenario) *Palette {
	var names []string
	for _, s := range sc.Strategies {
		names = append(names, s.Name)
	}
	kinds := map[string]string{}
	for _, p := range sc.Providers {
		kinds[p.Name] = p.Kind
	}
	var deps []DeploymentInfo
	for _, d := range sc.Deployments {
		deps = append(deps, DeploymentInfo{Name: d.Name, Provider: d.Provider, Kind: kinds[d.Provider], Region: d.Region})
	}
	return NewPalette(deps, names)
}

// colour is a twin figure's series colour: the strategy's colour for the
// first series (the prediction, or TTFT), near-black for the second (the
// measurement, or E2E).
func (r *TwinReport) colour(i int) color.NRGBA {
	if i == 0 {
		return r.strategyColour
	}
	return colourMeasured
}
