package pricerefresh

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// AzureRetailPricesURL is the Azure Retail Prices API: public, unauthenticated
// JSON, the same figures as Azure's price pages.
const AzureRetailPricesURL = "https://prices.azure.com/api/retail/prices"

const azureHost = "prices.azure.com"

// azureAPIName names the API in notes and messages.
const azureAPIName = "Azure Retail Prices API"

// azureAPIVersion is the api-version the queries ask for; it is the version
// whose answers carry the Foundry Models and savings-plan fields.
const azureAPIVersion = "2023-01-01-preview"

// azureMaxPages bounds the NextPageLink chain of one query (100 items a
// page), so a server that links to itself cannot loop forever.
const azureMaxPages = 500

// azureItem is one item of a Retail Prices API answer (only the fields
// refresh reads).
type azureItem struct {
	ServiceName      string  `json:"serviceName"`
	ProductName      string  `json:"productName"`
	SkuName          string  `json:"skuName"`
	MeterName        string  `json:"meterName"`
	ArmRegionName    string  `json:"armRegionName"`
	UnitPrice        float64 `json:"unitPrice"`
	UnitOfMeasure    string  `json:"unitOfMeasure"`
	Type             string  `json:"type"`
	TierMinimumUnits float64 `json:"tierMinimumUnits"`
	CurrencyCode     string  `json:"currencyCode"`
	ReservationTerm  string  `json:"reservationTerm"`
}

type azurePage struct {
	Items        []azureItem `json:"Items"`
	NextPageLink *string     `json:"NextPageLink"`
}

// azureAnswer is every item of one query, all pages, with the query's URL
// as the tables cite it.
type azureAnswer struct {
	// URL is the first page's URL on the official API.
	URL   string
	Items []azureItem
}

// azureQueryURL is the URL of a Retail Prices API query at endpoint.
func azureQueryURL(endpoint, filter string) string {
	// QueryEscape writes spaces as "+"; %20 is what the API's own
	// documentation writes, and both the API and a reader take it.
	// Quotes stay as they are, as the documentation writes them.
	return strings.TrimRight(endpoint, "/") + "?api-version=" + azureAPIVersion + "&$filter=" +
		strings.NewReplacer("+", "%20", "%27", "'").Replace(url.QueryEscape(filter))
}

// fetchAzure runs one query at endpoint, following NextPageLink on the
// same host, and keeps the Consumption items priced in USD.
func fetchAzure(ctx context.Context, f *priceFetcher, endpoint, filter string) (*azureAnswer, error) {
	first := azureQueryURL(endpoint, filter)
	base, err := url.Parse(first)
	if err != nil {
		return nil, &FetchError{URL: first, Err: err}
	}
	ans := &azureAnswer{}
	ans.URL, _ = officialURL(first, endpoint, AzureRetailPricesURL)
	next := first
	for page := 1; next != ""; page++ {
		if page > azureMaxPages {
			return nil, &FetchError{URL: first, Err: fmt.Errorf("more than %d pages of NextPageLink", azureMaxPages)}
		}
		var p azurePage
		if err := f.get(ctx, next, func(r io.Reader) error {
			if err := json.NewDecoder(r).Decode(&p); err != nil {
				return fmt.Errorf("not a Retail Prices API answer (JSON with Items and NextPageLink): %w", err)
			}
			if p.Items == nil {
				return fmt.Errorf("not a Retail Prices API answer: no Items array")
			}
			return nil
		}); err != nil {
			return nil, err
		}
		for _, it := range p.Items {
			if it.Type == "Consumption" && it.ReservationTerm == "" && (it.CurrencyCode == "" || it.CurrencyCode == "USD") {
				ans.Items = append(ans.Items, it)
			}
		}
		next = ""
		if p.NextPageLink != nil && *p.NextPageLink != "" {
			nu, err := url.Parse(*p.NextPageLink)
			if err != nil || !strings.EqualFold(nu.Hostname(), base.Hostname()) && !strings.EqualFold(nu.Hostname(), azureHost) {
				return nil, &FetchError{URL: first, Err: fmt.Errorf("NextPageLink %q leaves the API (%s)", *p.NextPageLink, base.Hostname())}
			}
			// The API writes NextPageLink on its public host (with :443);
			// the next page is read from the endpoint the first came from,
			// so a mirror that passes the links through stays in use.
			nu.Scheme, nu.Host = base.Scheme, base.Host
			next = nu.String()
		}
	}
	return ans, nil
}

// Azure OpenAI token meters. The Retail Prices API spells them several
// ways, "gpt-4o-0806-Inp-glbl", "gpt 4o 1120 Inp glbl", "gpt 4o 0513
// Input global Tokens", "GPT 5 Inpt Glbl", "gpt 4.1 nano cached Inp glbl",
// "gpt 4.5 0227 cached Inp DZone", so a meter name is read by a grammar
// rather than compared as a string:
//
//	MODEL WORDS [VERSION] [cached] DIRECTION DEPLOYMENT [1K|1M] [Tokens]
//
// with '-' and '_' read as spaces and case ignored. VERSION is four digits
// (MMDD) or YYYY MM DD; DIRECTION is inp/input/inpt or outp/output/out;
// DEPLOYMENT is glbl/global/gl (Global), dzone/dz/datazone/"data zone"
// (Data Zone) or regnl/regional/rgnl (Regional). Whatever remains is the
// model, which must equal the row's model read the same way: so
// "gpt-4o-mini-0718-Inp-glbl" is not gpt-4o, and batch, fine-tuning,
// audio or realtime meters ("gpt-4-8K-Batch-Inp-glbl") match no row.
type azureTokenMeter struct {
	Model, Version string
	Cached         bool
	Output         bool
	Deployment     string // azureGlobal, azureDataZone or azureRegional
}

// Azure deployment types of token meters.
const (
	azureGlobal   = "global"
	azureDataZone = "data zone"
	azureRegional = "regional"
)

var azureDeploymentWords = map[string]string{
	"glbl": azureGlobal, "global": azureGlobal, "gl": azureGlobal,
	"dzone": azureDataZone, "dz": azureDataZone, "datazone": azureDataZone,
	"regnl": azureRegional, "regional": azureRegional, "rgnl": azureRegional,
}

var azureDirectionWords = map[string]bool{ // true: output
	"inp": false, "input": false, "inpt": false,
	"outp": true, "output": true, "out": true,
}

var (
	fourDigits = regexp.MustCompile(`^[0-9]{4}$`)
	yearRE     = regexp.MustCompile(`^20[0-9]{2}$`)
	twoDigits  = regexp.MustCompile(`^[0-9]{2}$`)
)

// azureWords lowercases s and splits it at spaces, '-' and '_'.
func azureWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ' ' || r == '-' || r == '_' })
}

// parseAzureTokenMeter reads a token meter name by the grammar above.
func parseAzureTokenMeter(name string) (azureTokenMeter, bool) {
	w := azureWords(name)
	if n := len(w); n > 0 && w[n-1] == "tokens" {
		w = w[:n-1]
	}
	if n := len(w); n > 0 && (w[n-1] == "1k" || w[n-1] == "1m") {
		w = w[:n-1]
	}
	var m azureTokenMeter
	n := len(w)
	switch {
	case n >= 2 && w[n-2] == "data" && w[n-1] == "zone":
		m.Deployment, w = azureDataZone, w[:n-2]
	case n >= 1 && azureDeploymentWords[w[n-1]] != "":
		m.Deployment, w = azureDeploymentWords[w[n-1]], w[:n-1]
	default:
		return m, false
	}
	n = len(w)
	if n == 0 {
		return m, false
	}
	out, ok := azureDirectionWords[w[n-1]]
	if !ok {
		return m, false
	}
	m.Output, w = out, w[:n-1]
	if n = len(w); n > 0 && (w[n-1] == "cached" || w[n-1] == "cchd" || w[n-1] == "cache") {
		m.Cached, w = true, w[:n-1]
	}
	n = len(w)
	switch {
	case n >= 4 && yearRE.MatchString(w[n-3]) && twoDigits.MatchString(w[n-2]) && twoDigits.MatchString(w[n-1]):
		m.Version, w = w[n-2]+w[n-1], w[:n-3]
	case n >= 2 && fourDigits.MatchString(w[n-1]):
		m.Version, w = w[n-1], w[:n-1]
	}
	if len(w) == 0 {
		return m, false
	}
	m.Model = strings.Join(w, " ")
	return m, true
}

// tokensPerUnit reads a token meter's unitOfMeasure ("1K", "1M", "1K
// Tokens", "1 Million") as a number of tokens.
func tokensPerUnit(unit string) (float64, bool) {
	u := strings.ToLower(strings.TrimSpace(unit))
	u = strings.TrimSpace(strings.TrimSuffix(u, "tokens"))
	switch u {
	case "1k", "1 k", "1000", "1,000":
		return 1e3, true
	case "1m", "1 m", "1 million", "1000000", "1,000,000":
		return 1e6, true
	case "1", "":
		return 1, true
	}
	return 0, false
}

// gbPerUnit reads a bandwidth or storage unitOfMeasure ("1 GB", "1
// GB/Month", "100 GB") as a number of GB; per tells what follows the
// quantity ("gb" or "gb/month").
func gbPerUnit(unit, per string) (float64, bool) {
	f := strings.Fields(strings.ToLower(unit))
	if len(f) != 2 || strings.ReplaceAll(f[1], " ", "") != per {
		return 0, false
	}
	n, err := strconv.ParseFloat(f[0], 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}
