package window

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Quarantine entries are what the window could not process, kept with their
// reason on commerce.quarantine, keyed by company id (or, when the record
// names no usable company, by its topic and partition). Their size is
// bounded whatever the input: the record's bytes up to MaxQuarantinedBytes,
// the reason up to MaxReasonBytes, every id up to MaxIDBytes.

const stage = "window"

// quarantineID is deterministic: the same failure quarantined again (a
// transaction retried, a replay) has the same id.
func quarantineID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p))))
		h.Write([]byte{':'})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// recordEntry quarantines the input record r (ev when it could be decoded)
// with why.
func (j *Job) recordEntry(r *kgo.Record, ev *v1.CommerceEvent, reason string, attempts int) *kgo.Record {
	e := &v1.QuarantineEntry{
		Id:    quarantineID(stage, "record", r.Topic, strconv.Itoa(int(r.Partition)), strconv.FormatInt(r.Offset, 10)),
		Stage: stage, Kind: "record", Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
		Reason: truncate(reason, MaxReasonBytes), CodeVersion: truncate(j.version, MaxCodeBytes),
		QuarantinedUnixMs: j.now().UnixMilli(), Attempts: int32(attempts),
	}
	e.Record = r.Value
	if len(e.Record) > MaxQuarantinedBytes {
		e.Record, e.RecordTruncated = e.Record[:MaxQuarantinedBytes], true
	}
	key := fmt.Sprintf("%s/%d", r.Topic, r.Partition)
	if ev != nil {
		if id := ev.GetCompanyId(); id != "" && len(id) <= MaxIDBytes {
			e.CompanyId, key = id, id
		}
		e.TenantId = truncate(ev.GetTenantId(), MaxIDBytes)
		if re := ev.GetRecord(); re != nil {
			e.RecordId = truncate(recordKey{re.GetKind(), re.GetTransactionType(), re.GetId()}.String(), MaxIDBytes+64)
		} else if rf := ev.GetReference(); rf != nil {
			e.RecordId = truncate(rf.GetKind().String()+"|"+rf.GetId(), MaxIDBytes+64)
		}
	}
	j.log.Warn("record quarantined", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset,
		"company", e.CompanyId, "record", e.RecordId, "reason", e.Reason)
	return j.entryRecord(key, e)
}

// dayEntry quarantines a parked day; in is the input record whose
// processing parked it.
func (j *Job) dayEntry(p ParkedDay, in input) *kgo.Record {
	e := &v1.QuarantineEntry{
		Id:        quarantineID(stage, "day", p.CompanyID, p.Day, p.Currency, p.Location, strconv.Itoa(p.Revision)),
		CompanyId: p.CompanyID, TenantId: p.TenantID, Stage: stage, Kind: "day",
		Topic: in.topic, Partition: in.partition, Offset: in.offset,
		BusinessDay: p.Day, Currency: p.Currency, Location: p.Location,
		Reason:      truncate(fmt.Sprintf("revision %d of the day is parked: %s", p.Revision, p.Reason), MaxReasonBytes),
		CodeVersion: truncate(j.version, MaxCodeBytes), QuarantinedUnixMs: j.now().UnixMilli(), Attempts: int32(p.Attempts),
	}
	j.log.Warn("day quarantined", "company", p.CompanyID, "day", p.Day, "currency", p.Currency, "location", p.Location, "reason", e.Reason)
	return j.entryRecord(p.CompanyID, e)
}

func (j *Job) entryRecord(key string, e *v1.QuarantineEntry) *kgo.Record {
	// Proto strings must be UTF-8; a reason may quote input that was cut.
	for _, s := range []*string{&e.CompanyId, &e.TenantId, &e.RecordId, &e.Reason, &e.CodeVersion, &e.BusinessDay, &e.Currency, &e.Location} {
		*s = strings.ToValidUTF8(*s, "\uFFFD")
	}
	b, err := proto.Marshal(e)
	if err != nil {
		// Unreachable with valid strings; keep the coordinates at least.
		b, _ = proto.Marshal(&v1.QuarantineEntry{Id: e.Id, Stage: e.Stage, Kind: e.Kind, Topic: e.Topic, Partition: e.Partition, Offset: e.Offset,
			Reason: "the entry could not be encoded: " + err.Error()})
	}
	return &kgo.Record{Topic: j.topics.Quarantine, Key: []byte(key), Value: b}
}

// buildVersion names the build: its VCS revision (with "+dirty" for a
// modified tree), or else its module version.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return bi.Main.Path + "@" + bi.Main.Version
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}
