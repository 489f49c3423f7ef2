package sandbox

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// job is an asynchronous request (§4.4: Prefer: respond-async → 202
// Accepted, Location: /services/rest/async/v1/job/{id}).
type job struct {
	id      string
	created time.Time
	done    bool
	result  apiResponse
}

// maybeAsync runs run synchronously, or, under Prefer: respond-async, as
// a job. The X-NetSuite-Idempotency-Key applies only to async requests
// ("Ignored for synchronous execution", §4.4); a key already used answers
// §4.4's 400 IDEMPOTENCY_ERROR with the first job's Location. Keys are
// remembered for the sandbox's life: how long NetSuite keeps them is not
// in the reference.
func (s *Server) maybeAsync(req *apiRequest, run func() apiResponse) apiResponse {
	if !strings.Contains(strings.ToLower(req.header.Get("Prefer")), "respond-async") {
		return run()
	}
	key := req.header.Get("X-NetSuite-Idempotency-Key")
	co := req.co
	s.mu.Lock()
	if id, ok := co.idemKeys[key]; key != "" && ok {
		s.mu.Unlock()
		r := idempotencyConflict()
		r.header.Set("Location", req.base+AsyncJobPath+"/"+id)
		return r
	}
	co.nextJob++
	j := &job{id: strconv.Itoa(co.nextJob), created: req.now}
	co.jobs[j.id] = j
	if key != "" {
		co.idemKeys[key] = j.id
	}
	s.mu.Unlock()

	res := run()
	s.mu.Lock()
	j.result, j.done = res, true
	s.mu.Unlock()
	return apiResponse{status: http.StatusAccepted, header: http.Header{"Location": {req.base + AsyncJobPath + "/" + j.id}}}
}

// getJob answers GET /async/v1/job/{id}. The body's shape is not in the
// reference: id, completed, progress ("succeeded"/"failed"), and the
// task's status and Location or error envelope.
func (s *Server) getJob(req *apiRequest, id string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := req.co.jobs[id]
	if !ok {
		return errorResponse(http.StatusNotFound, nonexistentID())
	}
	progress := "succeeded"
	if j.result.status >= 300 {
		progress = "failed"
	}
	type task struct {
		Status   int    `json:"status"`
		Location string `json:"location,omitempty"`
		Body     any    `json:"body,omitempty"`
	}
	t := task{Status: j.result.status, Location: j.result.header.Get("Location")}
	if len(j.result.body) > 0 {
		t.Body = rawJSON(string(j.result.body))
	}
	return jsonResponse(http.StatusOK, ctSingular, struct {
		Links       []link `json:"links"`
		ID          string `json:"id"`
		Completed   bool   `json:"completed"`
		Progress    string `json:"progress"`
		CreatedDate string `json:"createdDate"`
		Task        task   `json:"task"`
	}{self(req.base + AsyncJobPath + "/" + id), id, j.done, progress, j.created.UTC().Format(time.RFC3339), t})
}
