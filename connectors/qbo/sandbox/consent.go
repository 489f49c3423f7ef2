package sandbox

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

var (
	hiddenInput    = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	selectedOption = regexp.MustCompile(`<option value="([^"]+)" selected>`)
	formAction     = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
)

// Approve plays the merchant on the consent page: it loads authCodeURL with
// hc, picks realmID ("" keeps the preselected company), presses Connect
// and returns where the sandbox redirects (redirect_uri?code=…&state=…&realmId=…,
// as Intuit's does, §2.1) without following it. An error redirect
// (error=…) is returned as a URL too.
func Approve(ctx context.Context, hc *http.Client, authCodeURL, realmID string) (*url.URL, error) {
	noFollow := *hc
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authCodeURL, nil)
	if err != nil {
		return nil, fmt.Errorf("consent page request: %w", err)
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		return nil, fmt.Errorf("load consent page: %w", err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read consent page: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		if loc := resp.Header.Get("Location"); loc != "" {
			return url.Parse(loc)
		}
		return nil, fmt.Errorf("consent page answered %d: %s", resp.StatusCode, page)
	}
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if realmID == "" {
		m := selectedOption.FindStringSubmatch(string(page))
		if m == nil {
			return nil, errors.New("consent page offers no company")
		}
		realmID = html.UnescapeString(m[1])
	}
	form.Set("realm_id", realmID)
	form.Set("consent", "allow")
	m := formAction.FindStringSubmatch(string(page))
	if m == nil {
		return nil, errors.New("consent page has no form")
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return nil, fmt.Errorf("consent form action: %w", err)
	}
	post, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("consent form request: %w", err)
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = noFollow.Do(post)
	if err != nil {
		return nil, fmt.Errorf("submit consent: %w", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("consent answered %d: %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return nil, fmt.Errorf("consent redirect: %w", err)
	}
	return loc, nil
}
