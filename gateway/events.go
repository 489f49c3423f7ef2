package gateway

import (
	"google.golang.org/protobuf/encoding/protowire"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The events of a push are encoded here rather than with proto.Marshal, so
// that each record is encoded once: its bytes, already hashed for the
// content hash, go into the event as they are. The result is what
// proto.Marshal gives for the same CommerceEvent (the tests compare them):
// fields in number order, proto3 defaults left out, and the body last
// because its field numbers are the highest.

// Field numbers of events.proto that are written here.
const (
	eventCompanyID protowire.Number = 1
	eventTenantID  protowire.Number = 2
	eventReceived  protowire.Number = 3
	eventRecord    protowire.Number = 10
	eventReference protowire.Number = 14

	recordKind          protowire.Number = 1
	recordID            protowire.Number = 2
	recordType          protowire.Number = 3
	recordDeleted       protowire.Number = 4
	recordEventTime     protowire.Number = 5
	recordSourceModTime protowire.Number = 6
	recordHash          protowire.Number = 7
	recordOrder         protowire.Number = 10
	recordPayment       protowire.Number = 11
	recordTransaction   protowire.Number = 12

	referenceKind      protowire.Number = 1
	referenceID        protowire.Number = 2
	referenceDeleted   protowire.Number = 3
	referenceValidFrom protowire.Number = 4
	referenceHash      protowire.Number = 5

	referenceLocation        protowire.Number = 10
	referenceProduct         protowire.Number = 11
	referenceProductCategory protowire.Number = 12
	referenceTaxComponent    protowire.Number = 13
	referencePaymentMethod   protowire.Number = 14
)

// stamp is what every event of one push carries: whose it is and when it
// arrived.
type stamp struct {
	company, tenant string
	receivedUnixMs  int64
}

// eventValue returns the encoding of a CommerceEvent with the stamp and,
// in field num, a message whose fields are head followed by body, in field
// bodyNum (none when bodyNum is 0).
func (st stamp) eventValue(num protowire.Number, head []byte, bodyNum protowire.Number, body []byte) []byte {
	return st.appendEventValue(make([]byte, 0, st.eventSize(num, head, bodyNum, body)), num, head, bodyNum, body)
}

// eventSize is the length of eventValue's encoding.
func (st stamp) eventSize(num protowire.Number, head []byte, bodyNum protowire.Number, body []byte) int {
	return sizeString(eventCompanyID, st.company) + sizeString(eventTenantID, st.tenant) + sizeInt(eventReceived, st.receivedUnixMs) +
		protowire.SizeTag(num) + protowire.SizeBytes(innerSize(head, bodyNum, body))
}

func innerSize(head []byte, bodyNum protowire.Number, body []byte) int {
	inner := len(head)
	if bodyNum != 0 {
		inner += protowire.SizeTag(bodyNum) + protowire.SizeBytes(len(body))
	}
	return inner
}

// appendEventValue appends eventValue's encoding to b.
func (st stamp) appendEventValue(b []byte, num protowire.Number, head []byte, bodyNum protowire.Number, body []byte) []byte {
	b = appendString(b, eventCompanyID, st.company)
	b = appendString(b, eventTenantID, st.tenant)
	b = appendInt(b, eventReceived, st.receivedUnixMs)
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(innerSize(head, bodyNum, body)))
	b = append(b, head...)
	if bodyNum != 0 {
		b = protowire.AppendTag(b, bodyNum, protowire.BytesType)
		b = protowire.AppendBytes(b, body)
	}
	return b
}

// appendRecordHead appends ev's fields but its body.
func appendRecordHead(b []byte, ev *v1.RecordEvent) []byte {
	b = appendInt(b, recordKind, int64(ev.GetKind()))
	b = appendString(b, recordID, ev.GetId())
	b = appendString(b, recordType, ev.GetTransactionType())
	b = appendBool(b, recordDeleted, ev.GetDeleted())
	b = appendInt(b, recordEventTime, ev.GetEventUnixMs())
	b = appendInt(b, recordSourceModTime, ev.GetSourceModifiedUnixMs())
	return appendBytes(b, recordHash, ev.GetContentHash())
}

// appendReferenceHead appends ev's fields but its body.
func appendReferenceHead(b []byte, ev *v1.ReferenceEvent) []byte {
	b = appendInt(b, referenceKind, int64(ev.GetKind()))
	b = appendString(b, referenceID, ev.GetId())
	b = appendBool(b, referenceDeleted, ev.GetDeleted())
	b = appendInt(b, referenceValidFrom, ev.GetValidFromUnixMs())
	return appendBytes(b, referenceHash, ev.GetContentHash())
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
}

func appendInt(b []byte, num protowire.Number, v int64) []byte {
	if v == 0 {
		return b
	}
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), uint64(v))
}

func appendBool(b []byte, num protowire.Number, v bool) []byte {
	if !v {
		return b
	}
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), 1)
}

func sizeString(num protowire.Number, s string) int {
	if s == "" {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(len(s))
}

func sizeInt(num protowire.Number, v int64) int {
	if v == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeVarint(uint64(v))
}
