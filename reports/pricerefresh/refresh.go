package pricerefresh

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mcbench/mcbench/reports"
)

// This file plans a refresh: each row is matched by an explicit rule
// (ruleFor below); a row no rule matches, or whose rule finds no single
// price, is left as it is and listed with the reason.

var inf = math.Inf(1)

// Options configures Refresh.
type Options struct {
	// Dir holds the tables to refresh (tokens.csv, egress.csv, ...).
	Dir string
	// Now is the retrieval date written to refreshed rows.
	Now time.Time
	// AzureEndpoint and AWSEndpoint replace the official API bases
	// (AzureRetailPricesURL, AWSPriceListURL), for a mirror or a test
	// server; rows still cite the official URL of the same query, and
	// their note names the endpoint actually read.
	AzureEndpoint, AWSEndpoint string
	// Client makes the requests (default: a client with
	// DefaultTimeout per request).
	Client *http.Client
	// MaxBytes caps each response body (default DefaultResponseCap).
	MaxBytes int64
	// Progress receives one line per request (default: discarded).
	Progress io.Writer
}

// ValueChange is one price column whose figure the API gives
// differently from the table.
type ValueChange struct {
	Column, Old, New string
}

// RowUpdate is a row refresh filled from a price API.
type RowUpdate struct {
	File string
	Line int
	// Row names the row for reading: provider, item and region.
	Row string
	// Changes lists the price columns whose value changed (none when the
	// API confirms every figure).
	Changes []ValueChange
	// SourceURL is the exact API query (Azure) or offer file (AWS) read.
	SourceURL string
	// OldText and NewText are the row's CSV text before and after.
	OldText, NewText string
}

// RowSkip is a row refresh left as it was, and why.
type RowSkip struct {
	File   string
	Line   int
	Row    string
	Reason string
}

// Result is the outcome of Refresh: what would change, before
// anything is written.
type Result struct {
	Rows      int
	Updated   []RowUpdate
	Unmatched []RowSkip
	tables    []*rawTable
}

// Refresh reads the tables in opt.Dir, fetches what their rows need
// from the price APIs and matches each row. It writes nothing (see
// Result.Write). Tables that do not load give a scenarios.Errors;
// an API that cannot be read gives a *FetchError, and then no row is
// refreshed at all, so a half-read price list never reaches the tables.
func Refresh(ctx context.Context, opt Options) (*Result, error) {
	if _, err := reports.LoadPricingDir(opt.Dir); err != nil {
		return nil, err
	}
	if opt.AzureEndpoint == "" {
		opt.AzureEndpoint = AzureRetailPricesURL
	}
	if opt.AWSEndpoint == "" {
		opt.AWSEndpoint = AWSPriceListURL
	}
	if opt.Client == nil {
		opt.Client = &http.Client{Timeout: DefaultTimeout}
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultResponseCap
	}
	if opt.Progress == nil {
		opt.Progress = io.Discard
	}
	rf := &refresher{opt: opt, f: &priceFetcher{client: opt.Client, maxBytes: opt.MaxBytes, progress: opt.Progress},
		azure: map[string]*azureAnswer{}, aws: map[string]*awsOffer{}}
	rf.awsc = &awsClient{f: rf.f, endpoint: opt.AWSEndpoint}
	out := &Result{}
	type planned struct {
		row  *rawRow
		rule *refreshRule
	}
	var plan []planned
	for _, name := range []string{"tokens.csv", "provisioned.csv", "egress.csv", "storage.csv", "exit.csv"} {
		t, err := readRawTable(filepath.Join(opt.Dir, name))
		if err != nil {
			return nil, err
		}
		out.tables = append(out.tables, t)
		for _, r := range t.rows {
			out.Rows++
			rule, reason := ruleFor(r)
			if rule == nil {
				out.Unmatched = append(out.Unmatched, r.skip(reason))
				continue
			}
			plan = append(plan, planned{r, rule})
		}
	}
	// Fetch every source first: an API that fails leaves every table as
	// it was.
	for _, p := range plan {
		for _, s := range p.rule.sources {
			if err := rf.fetch(ctx, s); err != nil {
				return nil, err
			}
		}
	}
	for _, p := range plan {
		m, reason := p.rule.match(rf, p.row, p.rule.sources)
		if m == nil {
			out.Unmatched = append(out.Unmatched, p.row.skip(reason))
			continue
		}
		out.Updated = append(out.Updated, p.row.apply(m, opt.Now))
	}
	// Unmatched rows in table order, as pricing list and check print them.
	order := map[string]int{}
	for i, t := range out.tables {
		order[t.path] = i
	}
	sort.SliceStable(out.Unmatched, func(i, j int) bool {
		a, b := out.Unmatched[i], out.Unmatched[j]
		return order[a.File] < order[b.File] || a.File == b.File && a.Line < b.Line
	})
	return out, nil
}

// Write rewrites the tables whose rows changed, in place: only the
// refreshed rows' lines change; row order, columns, comments and every
// other line stay byte for byte. It returns the files written.
func (r *Result) Write() ([]string, error) {
	var written []string
	for _, t := range r.tables {
		if !t.changed {
			continue
		}
		data := []byte(strings.Join(t.lines, "\n"))
		if err := os.WriteFile(t.path, data, 0o644); err != nil {
			return written, err
		}
		written = append(written, t.path)
	}
	return written, nil
}

// source is one document a rule reads: an Azure query (Filter) or an AWS
// region offer (Service, Region).
type source struct {
	Filter          string
	Service, Region string
}

func (s source) key() string { return s.Filter + "|" + s.Service + "|" + s.Region }

type refresher struct {
	opt   Options
	f     *priceFetcher
	awsc  *awsClient
	azure map[string]*azureAnswer
	aws   map[string]*awsOffer
}

func (rf *refresher) fetch(ctx context.Context, s source) error {
	k := s.key()
	if s.Filter != "" {
		if _, ok := rf.azure[k]; ok {
			return nil
		}
		a, err := fetchAzure(ctx, rf.f, rf.opt.AzureEndpoint, s.Filter)
		if err != nil {
			return err
		}
		rf.azure[k] = a
		return nil
	}
	if _, ok := rf.aws[k]; ok {
		return nil
	}
	o, err := rf.awsc.offer(ctx, s.Service, s.Region, awsKeep[s.Service])
	if err != nil {
		return err
	}
	rf.aws[k] = o
	return nil
}

// via says which endpoint a source was read from when it was not the
// official API ("" when it was).
func (rf *refresher) via(azure bool) string {
	ep, official := rf.opt.AWSEndpoint, AWSPriceListURL
	if azure {
		ep, official = rf.opt.AzureEndpoint, AzureRetailPricesURL
	}
	if _, ok := officialURL(ep, ep, official); ok {
		return ""
	}
	return ep
}

// refreshMatch is what a rule found for a row.
type refreshMatch struct {
	// values maps a price column to its figure in the table's unit.
	values map[string]float64
	url    string
	api    string
	// detail says which region and meters/products the figures are, for
	// the note.
	detail string
	via    string
}

// refreshRule refreshes one kind of row: the documents it reads and how it
// finds the row's figures in them.
type refreshRule struct {
	sources []source
	// match finds the row's figures in the fetched sources (src is
	// sources).
	match func(rf *refresher, r *rawRow, src []source) (*refreshMatch, string)
}

// Regions a row whose region is "*" is priced at. The tables' "*" rows
// were recorded at these regions' prices (their notes say so), and the
// Global token meters are priced alike in every region.
const (
	azureTokenRegion = "eastus2" // Global and Regional token meters
	// azureDataZoneRegion prices rows tagged eu-data-zone: an EU region
	// offering Data Zone (EU) deployments.
	azureDataZoneRegion = "swedencentral"
	azureRegion         = "eastus" // bandwidth and storage
	awsRegion           = "us-east-1"
)

// azureTokenFilters are the queries that may carry Azure OpenAI token
// meters in a region, in order of preference: the current service name
// first, then the older one.
func azureTokenFilters(region string) []source {
	return []source{
		{Filter: fmt.Sprintf("serviceName eq 'Foundry Models' and armRegionName eq '%s' and type eq 'Consumption'", region)},
		{Filter: fmt.Sprintf("serviceName eq 'Cognitive Services' and productName eq 'Azure OpenAI' and armRegionName eq '%s' and type eq 'Consumption'", region)},
	}
}

// ruleFor picks the rule for a row, or says why there is none. The rules:
//
//   - tokens, azure: Azure OpenAI token meters (parseAzureTokenMeter) of the
//     row's model; region "*" reads Global meters in eastus2,
//     tag:eu-data-zone Data Zone meters in swedencentral, an exact region
//     its Regional meters. Prices per 1K or 1M tokens become per 1M.
//   - tokens, bedrock: the AmazonBedrock offer of us-east-1 (or the row's
//     exact region), products with the model's offer name (bedrockOfferModels),
//     inferenceType "Input tokens"/"Output tokens", on-demand, and the
//     routing of the model id's prefix (none: in-region; "global.": global
//     cross-region; "us." and other geographies: geographic cross-region).
//   - egress, internet: Azure "Standard Data Transfer Out" (serviceName
//     Bandwidth, the Microsoft-network route, eastus); AWS "AWS Outbound"
//     to "External" (AWSDataTransfer offer, us-east-1). A row takes the
//     price of the one API tier that contains its whole range; API tier
//     bounds that are whole TiB (10,240 GB) are read as the tables' decimal
//     TB (10,000 GB).
//   - storage: Azure Blob Storage "Hot LRS Data Stored" (eastus), AWS S3
//     "General Purpose" / "Standard" (AmazonS3 offer, us-east-1), first
//     tier.
//
// Provisioned capacity, other transfer paths and exit regimes have no rule.
func ruleFor(r *rawRow) (*refreshRule, string) {
	kind, region := r.get("provider_kind"), r.get("region")
	exactRegion := region != "*" && !strings.HasPrefix(region, "tag:")
	switch r.t.name {
	case "tokens":
		switch kind {
		case "azure":
			dep, armRegion := azureGlobal, azureTokenRegion
			switch {
			case region == "tag:eu-data-zone":
				dep, armRegion = azureDataZone, azureDataZoneRegion
			case exactRegion:
				dep, armRegion = azureRegional, region
			case region != "*":
				return nil, fmt.Sprintf("no refresh rule for region %s (rules: * reads Global meters in %s, tag:eu-data-zone Data Zone meters in %s, an exact region its Regional meters)",
					region, azureTokenRegion, azureDataZoneRegion)
			}
			return &refreshRule{sources: azureTokenFilters(armRegion), match: func(rf *refresher, r *rawRow, src []source) (*refreshMatch, string) {
				return matchAzureTokens(rf, r, src, dep, armRegion)
			}}, ""
		case "bedrock":
			awsR, why := awsRowRegion(region)
			if why != "" {
				return nil, why
			}
			return &refreshRule{sources: []source{{Service: "AmazonBedrock", Region: awsR}}, match: matchBedrockTokens}, ""
		}
	case "egress":
		if r.get("path") != reports.PathInternet {
			return nil, fmt.Sprintf("no refresh rule for the %s path (only internet egress is matched)", r.get("path"))
		}
		switch kind {
		case "azure":
			armRegion, why := azureRowRegion(region)
			if why != "" {
				return nil, why
			}
			return &refreshRule{sources: []source{{Filter: fmt.Sprintf("serviceName eq 'Bandwidth' and armRegionName eq '%s' and type eq 'Consumption'", armRegion)}},
				match: matchAzureEgress}, ""
		case "bedrock":
			awsR, why := awsRowRegion(region)
			if why != "" {
				return nil, why
			}
			return &refreshRule{sources: []source{{Service: "AWSDataTransfer", Region: awsR}}, match: matchAWSEgress}, ""
		}
	case "storage":
		switch {
		case kind == "azure" && r.get("service") == "blob-hot-lrs":
			armRegion, why := azureRowRegion(region)
			if why != "" {
				return nil, why
			}
			return &refreshRule{sources: []source{{Filter: fmt.Sprintf("serviceName eq 'Storage' and productName eq 'Blob Storage' and skuName eq 'Hot LRS' and armRegionName eq '%s' and type eq 'Consumption'", armRegion)}},
				match: matchAzureStorage}, ""
		case kind == "bedrock" && r.get("service") == "s3-standard":
			awsR, why := awsRowRegion(region)
			if why != "" {
				return nil, why
			}
			return &refreshRule{sources: []source{{Service: "AmazonS3", Region: awsR}}, match: matchS3Storage}, ""
		}
		return nil, fmt.Sprintf("no refresh rule for %s storage service %s", kind, r.get("service"))
	case "provisioned":
		return nil, "no refresh rule for provisioned capacity (Azure PTU and Bedrock model-unit prices are not matched yet): check it on source_url"
	case "exit":
		return nil, "an exit regime (waiver terms or law) is not in a price API: check it on source_url"
	}
	return nil, fmt.Sprintf("no refresh rule for provider kind %s in %s.csv", kind, r.t.name)
}

func azureRowRegion(region string) (string, string) {
	switch {
	case region == "*":
		return azureRegion, ""
	case strings.HasPrefix(region, "tag:"):
		return "", fmt.Sprintf("no refresh rule for region %s (rules read * at %s, or an exact region)", region, azureRegion)
	}
	return region, ""
}

func awsRowRegion(region string) (string, string) {
	switch {
	case region == "*":
		return awsRegion, ""
	case strings.HasPrefix(region, "tag:"):
		return "", fmt.Sprintf("no refresh rule for region %s (rules read * at %s, or an exact region)", region, awsRegion)
	}
	return region, ""
}

// versionRE finds the model version a row's note names ("version
// 2024-11-20"), which picks among token meters of several versions.
var versionRE = regexp.MustCompile(`\bversion (20[0-9]{2})-([0-9]{2})-([0-9]{2})\b`)

// matchAzureTokens finds the row's input, output and (when the row has
// one) cached-input prices among the token meters of deployment dep.
func matchAzureTokens(rf *refresher, r *rawRow, src []source, dep, armRegion string) (*refreshMatch, string) {
	model := strings.Join(azureWords(r.get("model")), " ")
	wantCached := r.get("cached_input_usd_per_mtok") != ""
	wantVersion := ""
	if m := versionRE.FindStringSubmatch(r.get("note")); m != nil {
		wantVersion = m[2] + m[3]
	}
	type slot struct {
		version string
		cached  bool
		output  bool
	}
	for _, s := range src {
		ans := rf.azure[s.key()]
		prices := map[slot]float64{}
		names := map[slot]string{}
		var conflicts []string
		for _, it := range ans.Items {
			m, ok := parseAzureTokenMeter(it.MeterName)
			if !ok {
				m, ok = parseAzureTokenMeter(it.SkuName)
			}
			if !ok || m.Model != model || m.Deployment != dep {
				continue
			}
			per, ok := tokensPerUnit(it.UnitOfMeasure)
			if !ok {
				conflicts = append(conflicts, fmt.Sprintf("meter %q has unit %q, not 1K or 1M tokens", it.MeterName, it.UnitOfMeasure))
				continue
			}
			price := round9(it.UnitPrice * 1e6 / per)
			k := slot{m.Version, m.Cached, m.Output}
			if old, dup := prices[k]; dup && old != price {
				conflicts = append(conflicts, fmt.Sprintf("meters %q and %q price the same thing at %s and %s per 1M", names[k], it.MeterName, formatPrice(old), formatPrice(price)))
			}
			prices[k], names[k] = price, it.MeterName
		}
		if len(prices) == 0 && len(conflicts) == 0 {
			continue
		}
		if len(conflicts) > 0 {
			return nil, fmt.Sprintf("%s %s: %s", azureAPIName, ans.URL, strings.Join(conflicts, "; "))
		}
		versions := map[string]bool{}
		for k := range prices {
			versions[k.version] = true
		}
		complete := func(v string) bool {
			_, in := prices[slot{v, false, false}]
			_, out := prices[slot{v, false, true}]
			_, cached := prices[slot{v, true, false}]
			return in && out && (cached || !wantCached)
		}
		var pick []string
		if wantVersion != "" {
			if !versions[wantVersion] {
				return nil, fmt.Sprintf("no %s %s meter of version %s (the note's version) in %s (versions there: %s)",
					dep, r.get("model"), wantVersion, ans.URL, strings.Join(sortedKeys(versions), ", "))
			}
			pick = []string{wantVersion}
		} else {
			for v := range versions {
				if complete(v) {
					pick = append(pick, v)
				}
			}
			slices.Sort(pick)
		}
		if len(pick) == 0 || !complete(pick[0]) {
			what := "input and output"
			if wantCached {
				what = "input, cached input and output"
			}
			return nil, fmt.Sprintf("no version of %s has %s %s meters in %s", r.get("model"), dep, what, ans.URL)
		}
		// Several versions are one price only if they agree; otherwise the
		// note must name the version.
		for _, v := range pick[1:] {
			for _, k := range []slot{{"", false, false}, {"", false, true}, {"", true, false}} {
				if k.cached && !wantCached {
					continue
				}
				a, b := k, k
				a.version, b.version = pick[0], v
				if prices[a] != prices[b] {
					return nil, fmt.Sprintf("%s versions %s are priced differently in %s: name the version in the note (\"version YYYY-MM-DD\")",
						r.get("model"), strings.Join(pick, ", "), ans.URL)
				}
			}
		}
		v := pick[0]
		m := &refreshMatch{url: ans.URL, api: azureAPIName, via: rf.via(true), values: map[string]float64{
			"input_usd_per_mtok":  prices[slot{v, false, false}],
			"output_usd_per_mtok": prices[slot{v, false, true}],
		}}
		meters := []string{names[slot{v, false, false}]}
		if wantCached {
			m.values["cached_input_usd_per_mtok"] = prices[slot{v, true, false}]
			meters = append(meters, names[slot{v, true, false}])
		}
		meters = append(meters, names[slot{v, false, true}])
		m.detail = armRegion + ": " + strings.Join(meters, ", ")
		return m, ""
	}
	return nil, fmt.Sprintf("no %s token meter for %s in %s's answers for %s (serviceName Foundry Models, or Cognitive Services / Azure OpenAI)",
		dep, r.get("model"), azureAPIName, armRegion)
}

// bedrockOfferModels maps a Bedrock model id (without a cross-region
// prefix) to the "model" attribute the AmazonBedrock offer gives it. The
// offer names models for people, not by id, so this table is the one place
// the two meet; a row whose name the offer lacks is listed with the
// offer's names, to correct it here.
var bedrockOfferModels = map[string]string{
	"anthropic.claude-sonnet-4-5-20250929-v1:0": "Claude Sonnet 4.5",
	"anthropic.claude-sonnet-4-20250514-v1:0":   "Claude Sonnet 4",
	"anthropic.claude-haiku-4-5-20251001-v1:0":  "Claude Haiku 4.5",
	"anthropic.claude-3-5-haiku-20241022-v1:0":  "Claude 3.5 Haiku",
	"anthropic.claude-3-haiku-20240307-v1:0":    "Claude 3 Haiku",
	"meta.llama3-3-70b-instruct-v1:0":           "Llama 3.3 70B Instruct",
	"meta.llama4-maverick-17b-instruct-v1:0":    "Llama 4 Maverick 17B",
	"meta.llama4-scout-17b-instruct-v1:0":       "Llama 4 Scout 17B",
	"meta.llama3-1-8b-instruct-v1:0":            "Llama 3.1 8B Instruct",
	"amazon.nova-micro-v1:0":                    "Nova Micro",
	"amazon.nova-lite-v1:0":                     "Nova Lite",
	"amazon.nova-pro-v1:0":                      "Nova Pro",
	"amazon.nova-2-lite-v1:0":                   "Nova 2.0 Lite",
	"openai.gpt-oss-120b-1:0":                   "gpt-oss-120b",
	"openai.gpt-oss-20b-1:0":                    "gpt-oss-20b",
}

// Bedrock routings, from a model id's prefix and a product's usagetype.
const (
	bedrockInRegion = "in-region"
	bedrockGlobal   = "global cross-region"
	bedrockGeo      = "geographic cross-region"
)

// bedrockGeoPrefixes are the geographic cross-region inference profile
// prefixes of model ids.
var bedrockGeoPrefixes = []string{"us.", "eu.", "apac.", "jp.", "au.", "ca.", "us-gov."}

func bedrockRowRouting(id string) (base, routing string) {
	if b, ok := strings.CutPrefix(id, "global."); ok {
		return b, bedrockGlobal
	}
	for _, p := range bedrockGeoPrefixes {
		if b, ok := strings.CutPrefix(id, p); ok {
			return b, bedrockGeo
		}
	}
	return id, bedrockInRegion
}

// bedrockProductRouting reads a token product's routing from its usagetype.
func bedrockProductRouting(usagetype string) string {
	u := strings.ToLower(usagetype)
	switch {
	case !strings.Contains(u, "cross-region") && !strings.Contains(u, "crossregion"):
		return bedrockInRegion
	case strings.Contains(u, "global"):
		return bedrockGlobal
	}
	return bedrockGeo
}

// bedrockExcluded are words in a token product's usagetype or feature that
// make it another billing product than on-demand pay-per-token.
var bedrockExcluded = []string{"batch", "priority", "flex", "latency", "cache", "provisioned", "custom", "reserved"}

// awsKeep selects, per offer, the products a rule may match, so a large
// offer file is read without being held.
var awsKeep = map[string]func(*awsProduct) bool{
	"AmazonBedrock": func(p *awsProduct) bool {
		t := p.Attributes["inferenceType"]
		return t == "Input tokens" || t == "Output tokens"
	},
	"AmazonS3": func(p *awsProduct) bool {
		return p.Attributes["storageClass"] == "General Purpose" && p.Attributes["volumeType"] == "Standard"
	},
	"AWSDataTransfer": func(p *awsProduct) bool {
		return p.Attributes["transferType"] == "AWS Outbound" && p.Attributes["toLocation"] == "External"
	},
}

func matchBedrockTokens(rf *refresher, r *rawRow, src []source) (*refreshMatch, string) {
	o := rf.aws[src[0].key()]
	awsR := o.Region
	base, routing := bedrockRowRouting(r.get("model"))
	name := bedrockOfferModels[base]
	if name == "" {
		return nil, fmt.Sprintf("model %s has no offer name in bedrockOfferModels (reports/pricerefresh/refresh.go)", base)
	}
	prices := map[bool]map[float64]string{false: {}, true: {}} // output → price → usagetype
	offerNames := map[string]bool{}
	for _, p := range o.Products {
		a := p.Attributes
		offerNames[a["model"]] = true
		if !strings.EqualFold(strings.Join(strings.Fields(a["model"]), " "), name) {
			continue
		}
		if f := a["feature"]; f != "" && f != "On-demand Inference" {
			continue
		}
		lower := strings.ToLower(a["usagetype"] + " " + a["feature"])
		if slices.ContainsFunc(bedrockExcluded, func(w string) bool { return strings.Contains(lower, w) }) {
			continue
		}
		if bedrockProductRouting(a["usagetype"]) != routing {
			continue
		}
		tiers, err := o.tiers(p.SKU)
		if err != nil {
			return nil, fmt.Sprintf("%s %s: %v", awsAPIName, o.URL, err)
		}
		if len(tiers) != 1 {
			return nil, fmt.Sprintf("%s %s: SKU %s has %d price tiers, not 1", awsAPIName, o.URL, p.SKU, len(tiers))
		}
		per, ok := tokensPerUnit(tiers[0].Unit)
		if !ok {
			return nil, fmt.Sprintf("%s %s: SKU %s has unit %q, not 1K or 1M tokens", awsAPIName, o.URL, p.SKU, tiers[0].Unit)
		}
		prices[a["inferenceType"] == "Output tokens"][round9(tiers[0].USD*1e6/per)] = a["usagetype"]
	}
	if len(prices[false]) != 1 || len(prices[true]) != 1 {
		if len(prices[false]) == 0 && len(prices[true]) == 0 {
			delete(offerNames, "")
			names := sortedKeys(offerNames)
			if len(names) > 15 {
				names = append(names[:15], "...")
			}
			return nil, fmt.Sprintf("no %s on-demand token product with model %q in %s (models there: %s)", routing, name, o.URL, strings.Join(names, ", "))
		}
		return nil, fmt.Sprintf("%s on-demand %q in %s: %d input and %d output prices, not one each", routing, name, o.URL, len(prices[false]), len(prices[true]))
	}
	m := &refreshMatch{url: o.URL, api: awsAPIName, via: rf.via(false), values: map[string]float64{}}
	var usage []string
	for out, col := range map[bool]string{false: "input_usd_per_mtok", true: "output_usd_per_mtok"} {
		for price, ut := range prices[out] {
			m.values[col] = price
			usage = append(usage, ut)
		}
	}
	slices.Sort(usage)
	m.detail = fmt.Sprintf("%s: AmazonBedrock model %s, %s", awsR, name, strings.Join(usage, ", "))
	return m, ""
}

// tier is a priced volume range in decimal GB.
type tier struct{ from, to, usd float64 }

// decimalGB reads an API tier bound in GB: whole TiB multiples (10,240 GB)
// are the APIs' way of writing TB, and the tables count 1 TB as 1,000 GB.
func decimalGB(gb float64) float64 {
	if gb >= 1024 && math.Mod(gb, 1024) == 0 {
		return gb / 1024 * 1000
	}
	return gb
}

// containing returns the tier whose range holds the row's whole range
// [from, to), or why none does.
func containing(tiers []tier, from, to float64) (tier, string) {
	for _, t := range tiers {
		if t.from <= from && to <= t.to {
			return t, ""
		}
	}
	var s []string
	for _, t := range tiers {
		s = append(s, fmt.Sprintf("%s–%s GB at %s", formatPrice(t.from), formatGB(t.to), formatPrice(t.usd)))
	}
	return tier{}, fmt.Sprintf("no one API tier holds %s–%s GB (tiers: %s)", formatPrice(from), formatGB(to), strings.Join(s, "; "))
}

// freeAllowance says why a free tier row (usd_per_gb 0) is not priced from
// an API tier that charges: a free allowance such as AWS's first 100 GB a
// month is an account-level rule the price list may not carry, and a
// refresh must not turn it into a charge.
func freeAllowance(r *rawRow, t tier) string {
	if v, err := strconv.ParseFloat(r.get("usd_per_gb"), 64); err == nil && v == 0 && t.usd != 0 {
		return fmt.Sprintf("the row is a free allowance but the API tier %s–%s GB holding it charges %s per GB: a free tier the price list does not carry; check it on the provider's page",
			formatPrice(t.from), formatGB(t.to), formatPrice(t.usd))
	}
	return ""
}

func formatGB(v float64) string {
	if math.IsInf(v, 1) {
		return "∞"
	}
	return formatPrice(v)
}

func sortTiers(t []awsTier) { sort.Slice(t, func(i, j int) bool { return t[i].From < t[j].From }) }

func rowRange(r *rawRow) (float64, float64) {
	from, _ := strconv.ParseFloat(r.get("from_gb"), 64)
	to := inf
	if s := r.get("to_gb"); s != "" {
		to, _ = strconv.ParseFloat(s, 64)
	}
	return from, to
}

// azureTiers turns items of one meter, one item per tierMinimumUnits, into
// tiers in decimal GB.
func azureTiers(items []azureItem) []tier {
	sort.Slice(items, func(i, j int) bool { return items[i].TierMinimumUnits < items[j].TierMinimumUnits })
	var out []tier
	for i, it := range items {
		t := tier{from: decimalGB(it.TierMinimumUnits), to: inf, usd: it.UnitPrice}
		if i+1 < len(items) {
			t.to = decimalGB(items[i+1].TierMinimumUnits)
		}
		out = append(out, t)
	}
	return out
}

// azureMeterItems returns the items of the answer with meterName meter that
// keep accepts, grouped by productName, and a reason when they are not
// one product's tiers priced per GB.
func azureMeterItems(ans *azureAnswer, meter, per string, keep func(azureItem) bool) ([]azureItem, string) {
	byProduct := map[string][]azureItem{}
	for _, it := range ans.Items {
		if it.MeterName == meter && keep(it) {
			byProduct[it.ProductName] = append(byProduct[it.ProductName], it)
		}
	}
	if len(byProduct) != 1 {
		return nil, fmt.Sprintf("%d products with meter %q in %s (%s), not 1", len(byProduct), meter, ans.URL, strings.Join(sortedKeys(byProduct), "; "))
	}
	for _, items := range byProduct {
		for _, it := range items {
			if n, ok := gbPerUnit(it.UnitOfMeasure, per); !ok || n != 1 {
				return nil, fmt.Sprintf("meter %q in %s has unit %q, not 1 %s", meter, ans.URL, it.UnitOfMeasure, per)
			}
		}
		return items, ""
	}
	return nil, ""
}

func matchAzureEgress(rf *refresher, r *rawRow, src []source) (*refreshMatch, string) {
	armRegion, _ := azureRowRegion(r.get("region"))
	ans := rf.azure[src[0].key()]
	// The Microsoft-network route, not Routing Preference: Internet.
	items, why := azureMeterItems(ans, "Standard Data Transfer Out", "gb", func(it azureItem) bool {
		return !strings.Contains(strings.ToLower(it.ProductName), "internet")
	})
	if why != "" {
		return nil, why
	}
	from, to := rowRange(r)
	t, why := containing(azureTiers(items), from, to)
	if why == "" {
		why = freeAllowance(r, t)
	}
	if why != "" {
		return nil, fmt.Sprintf("%s: %s", ans.URL, why)
	}
	return &refreshMatch{url: ans.URL, api: azureAPIName, via: rf.via(true), values: map[string]float64{"usd_per_gb": round9(t.usd)},
		detail: fmt.Sprintf("%s: %s, Standard Data Transfer Out, tier %s–%s GB", armRegion, items[0].ProductName, formatPrice(t.from), formatGB(t.to))}, ""
}

func matchAzureStorage(rf *refresher, r *rawRow, src []source) (*refreshMatch, string) {
	armRegion, _ := azureRowRegion(r.get("region"))
	ans := rf.azure[src[0].key()]
	items, why := azureMeterItems(ans, "Hot LRS Data Stored", "gb/month", func(azureItem) bool { return true })
	if why != "" {
		return nil, why
	}
	t := azureTiers(items)[0]
	if t.from != 0 {
		return nil, fmt.Sprintf("meter \"Hot LRS Data Stored\" in %s has no tier from 0", ans.URL)
	}
	return &refreshMatch{url: ans.URL, api: azureAPIName, via: rf.via(true), values: map[string]float64{"usd_per_gb_month": round9(t.usd)},
		detail: fmt.Sprintf("%s: Blob Storage, Hot LRS Data Stored, first tier (to %s GB)", armRegion, formatGB(t.to))}, ""
}

// awsProductTiers returns the tiers of the one product keep accepts in the
// row's offer (several products must have identical tiers), in decimal GB,
// with the unit they are priced in.
func awsProductTiers(rf *refresher, s source, unit string) (*awsOffer, []tier, string) {
	o := rf.aws[s.key()]
	var got []tier
	var usage []string
	for _, p := range o.Products {
		ts, err := o.tiers(p.SKU)
		if err != nil {
			return o, nil, fmt.Sprintf("%s %s: %v", awsAPIName, o.URL, err)
		}
		var tt []tier
		for _, t := range ts {
			if t.Unit != unit {
				return o, nil, fmt.Sprintf("%s %s: SKU %s is priced per %q, not %q", awsAPIName, o.URL, p.SKU, t.Unit, unit)
			}
			tt = append(tt, tier{decimalGB(t.From), decimalGB(t.To), t.USD})
		}
		if got != nil && !slices.Equal(got, tt) {
			return o, nil, fmt.Sprintf("%s %s: products %s price differently (%s)", awsAPIName, o.URL, strings.Join(append(usage, p.Attributes["usagetype"]), ", "), s.Service)
		}
		got = tt
		usage = append(usage, p.Attributes["usagetype"])
	}
	if got == nil {
		return o, nil, fmt.Sprintf("no matching product in %s", o.URL)
	}
	return o, got, ""
}

func matchAWSEgress(rf *refresher, r *rawRow, src []source) (*refreshMatch, string) {
	o, tiers, why := awsProductTiers(rf, src[0], "GB")
	if why != "" {
		return nil, "AWS Outbound to External: " + why
	}
	from, to := rowRange(r)
	t, why := containing(tiers, from, to)
	if why == "" {
		why = freeAllowance(r, t)
	}
	if why != "" {
		return nil, fmt.Sprintf("%s: %s", o.URL, why)
	}
	return &refreshMatch{url: o.URL, api: awsAPIName, via: rf.via(false), values: map[string]float64{"usd_per_gb": round9(t.usd)},
		detail: fmt.Sprintf("%s: AWSDataTransfer, AWS Outbound to External, tier %s–%s GB", o.Region, formatPrice(t.from), formatGB(t.to))}, ""
}

func matchS3Storage(rf *refresher, _ *rawRow, src []source) (*refreshMatch, string) {
	o, tiers, why := awsProductTiers(rf, src[0], "GB-Mo")
	if why != "" {
		return nil, "S3 General Purpose / Standard storage: " + why
	}
	if tiers[0].from != 0 {
		return nil, fmt.Sprintf("%s: S3 Standard storage has no tier from 0", o.URL)
	}
	return &refreshMatch{url: o.URL, api: awsAPIName, via: rf.via(false), values: map[string]float64{"usd_per_gb_month": round9(tiers[0].usd)},
		detail: fmt.Sprintf("%s: AmazonS3, General Purpose / Standard, first tier (to %s GB)", o.Region, formatGB(tiers[0].to))}, ""
}

// round9 rounds to 1e-9 USD, so a unit conversion (0.0025 per 1K × 1000)
// reads 2.5 rather than 2.5000000000000004.
func round9(v float64) float64 { return math.Round(v*1e9) / 1e9 }

func formatPrice(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}
