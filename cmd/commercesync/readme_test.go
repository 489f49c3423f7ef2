package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	xerosandbox "github.com/commercesync/commercesync/connectors/xero/sandbox"
)

// TestReadmeWalkthrough follows the README's "Try it as a new user would"
// literally: its shell blocks run, unchanged, in one bash session against a
// started dev system, in the repository's folder. Only two blocks are not
// run as written: `make run` (the test starts the same system in-process)
// and the block that sets KEY, API and XERO, whose values come from the
// started system. Where the README sends the merchant to a browser, the
// test plays the browser on the link the block printed: it follows the
// link with a cookie jar and submits the sandbox's consent form. The
// journal the sandbox then holds must move each account exactly what the
// example files add up to, computed here on their own.
func TestReadmeWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "sed", "grep", "seq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the walkthrough needs %s, which this machine lacks: %v", tool, err)
		}
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	blocks := walkthroughBlocks(t, filepath.Join(root, "README.md"))
	sys := startSystem(t)
	vars := map[string]string{"KEY": sys.DevKey, "API": sys.HTTPURL, "XERO": sys.SandboxURL["xero"]}

	sh := startShell(t, root)
	var company string
	var out []string
	for i, b := range blocks {
		switch {
		case b.start:
			continue // the system above is what `make run` starts
		case b.vars != nil:
			var lines []string
			for _, name := range b.vars {
				v, ok := vars[name]
				if !ok {
					t.Fatalf("the README sets %s, which the test cannot know; it sets %v", name, b.vars)
				}
				lines = append(lines, name+"="+shellQuote(v))
				delete(vars, name)
			}
			if len(vars) != 0 {
				t.Fatalf("the README's commands need %v, which its variables block does not set", vars)
			}
			out = sh.run(t, i, strings.Join(lines, "\n"))
			continue
		}
		out = sh.run(t, i, b.text)
		for _, line := range out {
			if id, ok := strings.CutPrefix(line, "company "); ok {
				company = id
			}
			if link.MatchString(line) {
				openInBrowser(t, line)
			}
		}
	}
	if company == "" {
		t.Fatal("the walkthrough never printed the company it created")
	}

	// What the example files add up to, per account of the sandbox's chart.
	want := exampleDay(t, root, sys.Xero)
	got := sys.Xero.Balances(xerosandbox.DefaultTenantID, "2026-03-11")
	for code := range union(want, got) {
		if !got[code].Equal(want[code]) {
			t.Errorf("account %s: the sandbox's documents of 2026-03-11 move %s, the example files %s", code, got[code], want[code])
		}
	}
	var journal string
	for _, j := range sys.Xero.ManualJournals(xerosandbox.DefaultTenantID) {
		if j.Date == "2026-03-11" {
			journal = j.ID
		}
	}
	if journal == "" {
		t.Fatal("the sandbox holds no manual journal of 2026-03-11")
	}
	if !strings.Contains(strings.Join(out, "\n"), journal) {
		t.Errorf("the walkthrough's last step does not show the journal %s:\n%s", journal, strings.Join(out, "\n"))
	}
	a := &api{t: t, base: sys.HTTPURL, key: sys.DevKey, hc: &http.Client{Timeout: 30 * time.Second}}
	var st syncStatus
	a.must("GET", "/v1/companies/"+company+"/sync/commerce/status", nil, &st)
	if st.SyncStatus != "Success" || st.DocumentsFailed != 0 || st.DocumentsConfirmed == 0 {
		t.Errorf("status after the walkthrough: %+v, want Success with every document confirmed", st)
	}

	// What the README says of the edit: a new company's configuration, as
	// GET answers it once Xero is connected, is refused unchanged, naming
	// each required slot and what to put there.
	var fresh struct{ ID string }
	a.must("POST", "/v1/companies", map[string]any{"name": "Unconfigured"}, &fresh)
	var conn struct{ LinkURL string }
	a.must("POST", "/v1/companies/"+fresh.ID+"/connections", map[string]any{"platformKey": "xero"}, &conn)
	openInBrowser(t, conn.LinkURL)
	var cfg json.RawMessage
	eventually(t, 20*time.Second, "account options from Xero", func() bool {
		a.must("GET", "/v1/companies/"+fresh.ID+"/sync/commerce/config", nil, &cfg)
		return strings.Contains(string(cfg), "accountOptions")
	})
	var refusal struct{ Message string }
	if code := a.do("PUT", "/v1/companies/"+fresh.ID+"/sync/commerce/config", []byte(cfg), &refusal); code != http.StatusBadRequest {
		t.Fatalf("PUT of the unchanged GET answered %d: %s", code, refusal.Message)
	}
	for _, slot := range []string{"configuration.sales.accounts.sales", "configuration.payments.accounts.card", "configuration.payments.accounts.unsettled"} {
		if !strings.Contains(refusal.Message, slot+": Config contains required accounts without selections. Set its selectedAccountId to the id of one of its accountOptions") {
			t.Errorf("the refusal does not name %s and the fix: %s", slot, refusal.Message)
		}
	}
}

// link is an output line that is nothing but a URL: a link the README
// tells the merchant to open.
var link = regexp.MustCompile(`^https?://\S+$`)

type readmeBlock struct {
	text string
	// start: the block that starts the system (make run).
	start bool
	// vars: the names a block of plain assignments sets.
	vars []string
}

// walkthroughBlocks returns the sh blocks of the README section "Try it as
// a new user would", up to the next heading.
func walkthroughBlocks(t *testing.T, readme string) []readmeBlock {
	t.Helper()
	raw, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Try it as a new user would\n")
	if !ok {
		t.Fatal(`the README has no section "## Try it as a new user would"`)
	}
	if i := regexp.MustCompile(`(?m)^#{2,3} `).FindStringIndex(section); i != nil {
		section = section[:i[0]]
	}
	if strings.Contains(section, "jq ") {
		t.Error("the walkthrough uses jq, which a fresh machine lacks; read answers with sed or grep")
	}
	assign := regexp.MustCompile(`^([A-Z]+)=\S+(\s+#.*)?$`)
	var blocks []readmeBlock
	starts := 0
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1) {
		b := readmeBlock{text: m[1]}
		var cmds []string
		for _, line := range strings.Split(strings.TrimSpace(m[1]), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				cmds = append(cmds, line)
			}
		}
		switch {
		case len(cmds) == 1 && cmds[0] == "make run":
			b.start = true
			starts++
		case len(cmds) > 0 && allMatch(cmds, assign):
			for _, c := range cmds {
				b.vars = append(b.vars, assign.FindStringSubmatch(c)[1])
			}
		}
		blocks = append(blocks, b)
	}
	if starts != 1 || len(blocks) < 3 {
		t.Fatalf("the walkthrough has %d blocks, %d of them `make run`; want it to start the system once and then use it", len(blocks), starts)
	}
	return blocks
}

func allMatch(lines []string, re *regexp.Regexp) bool {
	for _, l := range lines {
		if !re.MatchString(l) {
			return false
		}
	}
	return true
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// shell is one bash session the blocks run in, one after another, so what
// one block sets the next one sees, as in the reader's terminal. It stops at
// the first command that fails.
type shell struct {
	stdin  io.WriteCloser
	lines  chan string
	mu     sync.Mutex
	stderr bytes.Buffer
}

func startShell(t *testing.T, dir string) *shell {
	t.Helper()
	sh := &shell{lines: make(chan string, 1024)}
	cmd := exec.Command("bash", "--noprofile", "--norc")
	cmd.Dir = dir
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		sh.mu.Lock()
		defer sh.mu.Unlock()
		return sh.stderr.Write(p)
	})
	var err error
	if sh.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start bash: %v", err)
	}
	t.Cleanup(func() {
		_ = sh.stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	go func() {
		defer close(sh.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			sh.lines <- sc.Text()
		}
	}()
	if _, err := io.WriteString(sh.stdin, "set -euo pipefail\n"); err != nil {
		t.Fatal(err)
	}
	return sh
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// run runs one block and returns what it printed.
func (sh *shell) run(t *testing.T, n int, block string) []string {
	t.Helper()
	marker := fmt.Sprintf("readme-block-%d-done", n)
	if _, err := io.WriteString(sh.stdin, block+"\necho "+marker+"\n"); err != nil {
		t.Fatalf("block %d: write to bash: %v", n, err)
	}
	var out []string
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case line, ok := <-sh.lines:
			if !ok {
				sh.mu.Lock()
				defer sh.mu.Unlock()
				t.Fatalf("block %d failed:\n%s\noutput:\n%s\nstderr:\n%s", n, block, strings.Join(out, "\n"), sh.stderr.String())
			}
			if line == marker {
				t.Logf("block %d:\n%s\n→\n%s", n, block, strings.Join(out, "\n"))
				return out
			}
			out = append(out, line)
		case <-timeout:
			t.Fatalf("block %d did not finish in 2 minutes:\n%s\noutput so far:\n%s", n, block, strings.Join(out, "\n"))
		}
	}
}

var (
	formTag   = regexp.MustCompile(`(?is)<form[^>]*\baction="([^"]*)"[^>]*>(.*?)</form>`)
	hiddenTag = regexp.MustCompile(`(?i)<input[^>]*\btype="hidden"[^>]*>`)
	selectTag = regexp.MustCompile(`(?is)<select[^>]*\bname="([^"]+)"[^>]*>(.*?)</select>`)
	optionTag = regexp.MustCompile(`(?i)<option[^>]*\bvalue="([^"]*)"[^>]*>`)
	buttonTag = regexp.MustCompile(`(?is)<button[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"[^>]*>([^<]*)</button>`)
	attr      = regexp.MustCompile(`\b(name|value)="([^"]*)"`)
)

// openInBrowser does what the merchant does with the link: a browser opens
// it (following redirects, keeping cookies, whether the link points at the
// platform or at a route of ours that sets a cookie first), the merchant
// keeps the preselected organisation and presses the button that allows
// access, and the browser follows the platform's redirect back to our
// callback, which must say the organisation is connected.
func openInBrowser(t *testing.T, linkURL string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := browser.Get(linkURL)
	if err != nil {
		t.Fatalf("open %s: %v", linkURL, err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the link answered %d: %s", resp.StatusCode, page)
	}
	form := formTag.FindSubmatch(page)
	if form == nil {
		t.Fatalf("the page at %s has no form: %s", resp.Request.URL, page)
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(string(form[1])))
	if err != nil {
		t.Fatal(err)
	}
	fields := url.Values{}
	for _, in := range hiddenTag.FindAll(form[2], -1) {
		var name, value string
		for _, a := range attr.FindAllSubmatch(in, -1) {
			if string(a[1]) == "name" {
				name = html.UnescapeString(string(a[2]))
			} else {
				value = html.UnescapeString(string(a[2]))
			}
		}
		fields.Set(name, value)
	}
	for _, sel := range selectTag.FindAllSubmatch(form[2], -1) {
		options := optionTag.FindAllSubmatch(sel[2], -1)
		if len(options) == 0 {
			t.Fatalf("the consent page's %s offers nothing to choose", sel[1])
		}
		chosen := options[0][1]
		for _, o := range options {
			if bytes.Contains(o[0], []byte("selected")) {
				chosen = o[1]
			}
		}
		fields.Set(string(sel[1]), html.UnescapeString(string(chosen)))
	}
	allowed := false
	for _, b := range buttonTag.FindAllSubmatch(form[2], -1) {
		if strings.Contains(strings.ToLower(string(b[3])), "allow") {
			fields.Set(string(b[1]), html.UnescapeString(string(b[2])))
			allowed = true
		}
	}
	if !allowed {
		t.Fatalf("the consent page has no button that allows access: %s", page)
	}
	resp, err = browser.PostForm(action.String(), fields)
	if err != nil {
		t.Fatalf("submit the consent: %v", err)
	}
	back, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(back), "is connected") {
		t.Fatalf("after the consent the browser shows %d from %s: %s", resp.StatusCode, resp.Request.URL, back)
	}
}

// exampleDay adds up the example files the way Codat's model reads, on
// its own: what each account of the sandbox's chart must move on the day.
func exampleDay(t *testing.T, root string, sb *xerosandbox.Server) map[string]decimal.Decimal {
	t.Helper()
	type ref struct{ ID, Type string }
	var orders []struct {
		TotalAmount, TotalGratuity decimal.Decimal
		OrderLineItems             []struct {
			TotalAmount, TotalTaxAmount decimal.Decimal
			DiscountAllocations         []struct{ TotalAmount decimal.Decimal }
		}
	}
	var payments []struct {
		ID, Type, Status string
		Amount           decimal.Decimal
	}
	var transactions []struct {
		Type                  string
		TotalAmount           decimal.Decimal
		TransactionSourceRef  ref
		SettledTransactionIDs []string `json:"settledTransactionIds"`
	}
	var cfg struct {
		Configuration struct {
			Sales, Payments, Fees struct {
				Accounts map[string]struct{ SelectedAccountID string }
			}
		}
	}
	dir := filepath.Join(root, "examples", "corner-coffee")
	for name, v := range map[string]any{"orders.json": &orders, "payments.json": &payments, "transactions.json": &transactions, "xero-config.json": &cfg} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	sum := map[string]decimal.Decimal{} // by configuration slot, + debit
	add := func(slot string, d decimal.Decimal) { sum[slot] = sum[slot].Add(d) }
	for _, o := range orders {
		add("payments/unsettled", o.TotalAmount.Add(o.TotalGratuity))
		add("sales/gratuity", o.TotalGratuity.Neg())
		for _, l := range o.OrderLineItems {
			discount := decimal.Zero
			for _, d := range l.DiscountAllocations {
				discount = discount.Add(d.TotalAmount)
			}
			add("sales/sales", l.TotalAmount.Sub(l.TotalTaxAmount).Add(discount).Neg())
			add("sales/discounts", discount)
			add("sales/tax", l.TotalTaxAmount.Neg())
		}
	}
	tender := map[string]string{}
	for _, p := range payments {
		tender[p.ID] = strings.ToLower(p.Type)
		if p.Status == "Paid" {
			add("payments/"+tender[p.ID], p.Amount)
			add("payments/unsettled", p.Amount.Neg())
		}
	}
	for _, tx := range transactions {
		switch tx.Type {
		case "PaymentFee":
			add("fees/paymentFee", tx.TotalAmount.Neg())
			add("payments/"+tender[tx.TransactionSourceRef.ID], tx.TotalAmount)
		case "Payout":
			add("payments/payout", tx.TotalAmount)
			add("payments/"+tender[tx.SettledTransactionIDs[0]], tx.TotalAmount.Neg())
		}
	}
	org, ok := sb.Organisation(xerosandbox.DefaultTenantID)
	if !ok {
		t.Fatal("the sandbox has no Demo Company (US)")
	}
	code := map[string]string{}
	for _, a := range org.Accounts {
		code[a.AccountID] = a.Code
	}
	sections := map[string]map[string]struct{ SelectedAccountID string }{
		"sales": cfg.Configuration.Sales.Accounts, "payments": cfg.Configuration.Payments.Accounts, "fees": cfg.Configuration.Fees.Accounts,
	}
	out := map[string]decimal.Decimal{}
	for slot, v := range sum {
		section, key, _ := strings.Cut(slot, "/")
		c, ok := code[sections[section][key].SelectedAccountID]
		if !ok {
			t.Fatalf("the example configuration maps %s to no account of the sandbox's chart", slot)
		}
		if !v.IsZero() {
			out[c] = out[c].Add(v)
		}
	}
	return out
}

func union(a, b map[string]decimal.Decimal) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// The walkthrough's browser works whether a linkUrl leads straight to the
// platform's consent page or first to a route of ours that sets a cookie
// and redirects there: the cookie comes back with the platform's redirect
// to the callback, as a browser would send it.
func TestBrowserEmulationKeepsCookiesAcrossRedirects(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	callback := srv.URL + "/callback"
	sb := xerosandbox.New(xerosandbox.WithClient(xerosandbox.Client{ID: "app", Secret: "secret", Name: "app", RedirectURIs: []string{callback}}))
	sbURL, shutdown, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = shutdown(context.Background()) }()
	authorize := func(state string) string {
		return sbURL + xerosandbox.AuthorizePath + "?" + url.Values{
			"response_type": {"code"}, "client_id": {"app"}, "redirect_uri": {callback}, "scope": {"offline_access accounting.transactions"}, "state": {state},
		}.Encode()
	}
	var mu sync.Mutex
	seen := map[string]bool{} // state → the callback accepted it
	mux.HandleFunc("GET /link", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "binding", Value: "bound", Path: "/", HttpOnly: true})
		http.Redirect(w, r, authorize("bound"), http.StatusFound)
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		state := r.URL.Query().Get("state")
		if c, err := r.Cookie("binding"); state == "bound" && (err != nil || c.Value != "bound") {
			http.Error(w, "this browser did not start the connection", http.StatusBadRequest)
			return
		}
		if r.URL.Query().Get("code") == "" {
			http.Error(w, "no code", http.StatusBadRequest)
			return
		}
		mu.Lock()
		seen[state] = true
		mu.Unlock()
		_, _ = io.WriteString(w, "Demo Company (US) is connected")
	})
	openInBrowser(t, srv.URL+"/link")    // a route of ours first
	openInBrowser(t, authorize("plain")) // straight to the platform
	mu.Lock()
	defer mu.Unlock()
	if !seen["bound"] || !seen["plain"] {
		t.Fatalf("the callback accepted %v, want both links", seen)
	}
}
