package reports

// Transfer paths as the aggregation tracks them. Internet and inter-cloud
// are both priced from a provider's internet egress tiers and share its
// monthly volume; they are kept apart because only inter-cloud transfer is
// the multi-cloud "tax" (metric L8).
const (
	xLocal       = iota // same region: free
	xInterRegion        // same provider, another region
	xInternet           // to or from clients outside every cloud
	xInterCloud         // between two providers
	nXPaths
)

var xPathNames = [nXPaths]string{"intra-region", "inter-region", "internet (clients)", "inter-cloud"}

// Transfer sources: bytes the records carry (cross_cloud_bytes) and bytes
// the report estimates from tokens (client request and response payloads).
const (
	xEstimated = iota
	xRecorded
	nXSources
)

var xSourceNames = [nXSources]string{"estimated from tokens", "recorded (cross_cloud_bytes)"}

// route says who pays for an attempt's request and response bytes: the
// region they leave (-1: nobody, e.g. a client outside every cloud sending
// to the provider, since ingress is free) and the path.
type route struct {
	reqPayer, reqPath   int
	respPayer, respPath int
}

// routeOf classifies the path between a class's origin and a deployment.
// Egress is charged by the provider the bytes leave: the response by the
// deployment's provider, the request by the origin's.
func (w *world) routeOf(class, dep int) route {
	d := &w.deps[dep]
	origin := -1
	if class >= 0 && class < len(w.classes) {
		origin = w.classes[class].origin
	}
	switch {
	case d.region < 0:
		return route{reqPayer: -1, respPayer: -1}
	case origin < 0:
		return route{reqPayer: -1, respPayer: d.region, respPath: xInternet}
	case origin == d.region:
		return route{reqPayer: origin, reqPath: xLocal, respPayer: d.region, respPath: xLocal}
	case w.regions[origin].provider == w.regions[d.region].provider:
		return route{reqPayer: origin, reqPath: xInterRegion, respPayer: d.region, respPath: xInterRegion}
	default:
		return route{reqPayer: origin, reqPath: xInterCloud, respPayer: d.region, respPath: xInterCloud}
	}
}

// xferIndex indexes a per-replication transfer array: [region][path][source].
func xferIndex(region, path, source int) int { return (region*nXPaths+path)*nXSources + source }

// transferRates prices a strategy's transfer volume: $/GB per region and
// path, from the run's volume extrapolated to a month (see MonthlyRate).
type transferRates struct {
	perGB    [][nXPaths]float64 // [region][path]
	unpriced []string
}

func (w *world) transferRates(p *Pricing, bytes []float64, windowHours float64) transferRates {
	tr := transferRates{perGB: make([][nXPaths]float64, len(w.regions))}
	gb := func(r, path int) float64 {
		s := 0.0
		for src := 0; src < nXSources; src++ {
			s += bytes[xferIndex(r, path, src)]
		}
		return s / BytesPerGB
	}
	// Internet tiers count a provider's whole month of internet egress.
	internetGB := make([]float64, len(w.providers))
	for r, reg := range w.regions {
		if reg.provider >= 0 {
			internetGB[reg.provider] += gb(r, xInternet) + gb(r, xInterCloud)
		}
	}
	for r, reg := range w.regions {
		if reg.provider < 0 {
			continue
		}
		kind := w.providers[reg.provider].kind
		if v := internetGB[reg.provider]; gb(r, xInternet)+gb(r, xInterCloud) > 0 {
			tiers := p.EgressTiersFor(kind, PathInternet, reg.name, reg.tags)
			if tiers == nil {
				tr.unpriced = append(tr.unpriced, "internet egress from "+reg.name+" ("+kind+")")
			}
			rate := MonthlyRate(tiers, v, windowHours)
			tr.perGB[r][xInternet], tr.perGB[r][xInterCloud] = rate, rate
		}
		if v := gb(r, xInterRegion); v > 0 {
			tiers := p.EgressTiersFor(kind, PathInterRegion, reg.name, reg.tags)
			if tiers == nil {
				tr.unpriced = append(tr.unpriced, "inter-region transfer from "+reg.name+" ("+kind+")")
			}
			tr.perGB[r][xInterRegion] = MonthlyRate(tiers, v, windowHours)
		}
	}
	return tr
}

// cost prices one replication's (or a total's) transfer bytes.
func (tr *transferRates) cost(bytes []float64, region, path int) float64 {
	s := 0.0
	for src := 0; src < nXSources; src++ {
		s += bytes[xferIndex(region, path, src)]
	}
	return s / BytesPerGB * tr.perGB[region][path]
}
