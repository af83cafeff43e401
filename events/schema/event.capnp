@0xa2eeb94389d1be8e;
# The Tally event: one envelope and one payload per event type.
#
# Evolution (docs/events.md): fields and union members are only ever added,
# with new numbers; nothing is renamed, renumbered, retyped or removed. Old
# events must decode and project the same way for the retention horizon.
#
# Amounts are decimal strings in both the binary and the JSON form; the ledger
# stores them in canonical form (docs/money.md). Field names in JSON are the
# snake_case names given by $Json.name.

$import "/capnp/c++.capnp".namespace("tally::schema");
using Json = import "/capnp/compat/json.capnp";
using Rules = import "rules.capnp";

struct Timestamp {
  # JSON: an RFC 3339 string in UTC, e.g. "2026-03-01T10:00:00Z" or
  # "2026-03-01T10:00:00.123456Z"; offsets such as "+08:00" are accepted on input.
  unixMicros @0 :Int64 $Json.name("unix_micros");
}

struct Money {
  currency @0 :Text $Rules.required;  # ISO-4217 code, upper case
  value @1 :Text $Rules.required;     # decimal with at most the currency's minor digits
}

struct SealedField {
  # A personal field encrypted with the subject's data key (AEAD).
  subject @0 :Text;
  purpose @1 :Rules.Purpose;
  keyVersion @2 :UInt32 $Json.name("key_version");
  nonce @3 :Data $Json.base64;
  ciphertext @4 :Data $Json.base64;
}

struct PersonalField {
  # On input a producer sends {"plaintext": "..."}; the ledger seals it
  # before the event is appended (docs/events.md, "Personal fields").
  union {
    unset @0 :Void;
    plaintext @1 :Text;
    sealed @2 :SealedField;
    erased @3 :Rules.Purpose;
    # Never stored: what reads show in place of a sealed field whose key
    # was shredded (docs/privacy.md).
  }
}

# Every enum starts with `unspecified`, so that a field left out is told
# apart from a real value (a missing chargeback outcome must not mean "won").

enum GrantKind {
  unspecified @0;
  promotional @1;
  manual @2;
  compensation @3;
}

enum ErasurePurpose {
  unspecified @0;
  profile @1;
  billing @2;
  all @3;
}

enum BillingInterval {
  unspecified @0;
  month @1;
  year @2;
}

enum ChargebackOutcome {
  unspecified @0;
  won @1;   # the platform keeps the money
  lost @2;  # the money goes back to the payer
}

# ---- Account ---------------------------------------------------------------

struct AccountOpened {
  email @0 :PersonalField $Rules.personal(profile);
  displayName @1 :PersonalField $Rules.personal(profile) $Json.name("display_name");
  avatarUrl @2 :PersonalField $Rules.personal(profile) $Json.name("avatar_url");
  ipAddress @3 :PersonalField $Rules.personal(profile) $Json.name("ip_address");
  legalName @4 :PersonalField $Rules.personal(billing) $Json.name("legal_name");
  taxId @5 :PersonalField $Rules.personal(billing) $Json.name("tax_id");
  invoiceTitle @6 :PersonalField $Rules.personal(billing) $Json.name("invoice_title");
  billingAddress @7 :PersonalField $Rules.personal(billing) $Json.name("billing_address");
  country @8 :Text $Rules.maxBytes(2);  # ISO 3166-1 alpha-2
  legalEntity @9 :Text $Json.name("legal_entity");                 # the platform entity that invoices this account
}

struct ProfileUpdated {
  # Only the fields that are set change.
  email @0 :PersonalField $Rules.personal(profile);
  displayName @1 :PersonalField $Rules.personal(profile) $Json.name("display_name");
  avatarUrl @2 :PersonalField $Rules.personal(profile) $Json.name("avatar_url");
  ipAddress @3 :PersonalField $Rules.personal(profile) $Json.name("ip_address");
  legalName @4 :PersonalField $Rules.personal(billing) $Json.name("legal_name");
  taxId @5 :PersonalField $Rules.personal(billing) $Json.name("tax_id");
  invoiceTitle @6 :PersonalField $Rules.personal(billing) $Json.name("invoice_title");
  billingAddress @7 :PersonalField $Rules.personal(billing) $Json.name("billing_address");
  country @8 :Text $Rules.maxBytes(2);
}

struct AccountClosed {
  reason @0 :Text;
}

struct LegalHoldPlaced {
  # While a hold is on an account (the subject), nothing shreds its keys:
  # erasure requests are rejected and automatic shredding waits.
  reason @0 :Text $Rules.required;
  placedBy @1 :Text $Rules.required $Json.name("placed_by");
}

struct LegalHoldReleased {
  reason @0 :Text $Rules.required;
  releasedBy @1 :Text $Rules.required $Json.name("released_by");
}

struct PersonalDataAccessed {
  # Someone read the subject's (the account's) personal fields in plaintext:
  # a record for auditors of who read them, when (recorded_at) and through
  # what. It changes no balance and does not count in the account's version.
  accessedBy @0 :Text $Rules.required $Json.name("accessed_by");  # a token's name, an operator
  purpose @1 :ErasurePurpose $Rules.required;  # which fields: profile, billing or all
  via @2 :Text $Rules.required;                # what read them, e.g. "GET /v1/invoices/INV-1"
}

struct ErasureRequested {
  purpose @0 :ErasurePurpose $Rules.required;
  requestedBy @1 :Text $Rules.required $Json.name("requested_by");
}

# ---- Money in --------------------------------------------------------------

struct TopUpSettled {
  provider @0 :Text $Rules.required;   # "stripe", "alipay", "wechat_pay", ...
  reference @1 :Text $Rules.required;  # the provider's payment reference
  amount @2 :Money $Rules.required $Rules.positive;    # gross amount paid, tax included
  tax @3 :Money $Rules.nonNegative;                       # tax part of amount (same currency)
  taxJurisdiction @4 :Text $Json.name("tax_jurisdiction");
  credits @5 :Text $Rules.required $Rules.credits $Rules.positive;
  lotExpiresAt @6 :Timestamp $Json.name("lot_expires_at");          # unset: the credits never expire
  legalEntity @7 :Text $Json.name("legal_entity");
}

struct CreditsGranted {
  credits @0 :Text $Rules.required $Rules.credits $Rules.positive;
  kind @1 :GrantKind $Rules.required;
  expiresAt @2 :Timestamp $Json.name("expires_at");
  reason @3 :Text $Rules.required;
}

# ---- Tasks -----------------------------------------------------------------

struct TaskSubmitted {
  taskId @0 :Text $Rules.required $Json.name("task_id");
  model @1 :Text;
  estimate @2 :Text $Rules.required $Rules.credits $Rules.positive;  # credits to hold
  holdTtlMs @3 :UInt32 $Json.name("hold_ttl_ms");                              # 0: the ledger's default
}

struct HoldAccepted {
  taskId @0 :Text $Rules.required $Json.name("task_id");
  credits @1 :Text $Rules.required $Rules.credits $Rules.positive;
  expiresAt @2 :Timestamp $Rules.required $Json.name("expires_at");  # released by reservation_expired after this
}

struct HoldRejected {
  taskId @0 :Text $Rules.required $Json.name("task_id");
  requested @1 :Text $Rules.required $Rules.credits $Rules.positive;
  available @2 :Text $Rules.required $Rules.credits;
  reason @3 :Text;
}

struct TaskSucceeded {
  taskId @0 :Text $Rules.required $Json.name("task_id");
  cost @1 :Text $Rules.required $Rules.credits $Rules.nonNegative;  # actual credits consumed
  model @2 :Text;
}

struct TaskFailed {
  taskId @0 :Text $Rules.required $Json.name("task_id");
  reason @1 :Text;
}

struct TaskCancelled {
  taskId @0 :Text $Rules.required $Json.name("task_id");
  reason @1 :Text;
}

struct ReservationExpired {
  taskId @0 :Text $Rules.required $Json.name("task_id");
  credits @1 :Text $Rules.required $Rules.credits $Rules.nonNegative;
}

struct UsageRecorded {
  usageId @0 :Text $Rules.required $Json.name("usage_id");
  credits @1 :Text $Rules.required $Rules.credits $Rules.positive;
  model @2 :Text;
  description @3 :Text;
}

# ---- Refunds and disputes --------------------------------------------------

struct RefundIssued {
  refundId @0 :Text $Rules.required $Json.name("refund_id");
  paymentReference @1 :Text $Rules.required $Json.name("payment_reference");  # the refunded top-up or renewal
  provider @2 :Text $Rules.required;
  amount @3 :Money $Rules.required $Rules.positive;           # gross amount refunded, tax included
  tax @4 :Money $Rules.nonNegative;
  credits @5 :Text $Rules.credits $Rules.nonNegative;            # credits to claw back
  reason @6 :Text;
}

struct ChargebackOpened {
  chargebackId @0 :Text $Rules.required $Json.name("chargeback_id");
  paymentReference @1 :Text $Rules.required $Json.name("payment_reference");
  provider @2 :Text $Rules.required;
  amount @3 :Money $Rules.required $Rules.positive;
  reason @4 :Text;
}

struct ChargebackResolved {
  chargebackId @0 :Text $Rules.required $Json.name("chargeback_id");
  outcome @1 :ChargebackOutcome $Rules.required;
}

# ---- Subscriptions ---------------------------------------------------------

struct SubscriptionPeriod {
  # One paid period of a subscription.
  periodStart @0 :Timestamp $Rules.required $Json.name("period_start");
  periodEnd @1 :Timestamp $Rules.required $Json.name("period_end");
  amount @2 :Money $Rules.required $Rules.nonNegative;  # paid for the period, tax included
  tax @3 :Money $Rules.nonNegative;
  taxJurisdiction @4 :Text $Json.name("tax_jurisdiction");
  credits @5 :Text $Rules.required $Rules.credits $Rules.nonNegative;  # granted for the period
  provider @6 :Text $Rules.required;
  reference @7 :Text $Rules.required;
}

struct SubscriptionStarted {
  subscriptionId @0 :Text $Rules.required $Json.name("subscription_id");
  plan @1 :Text $Rules.required;
  interval @2 :BillingInterval $Rules.required;
  rollover @3 :Bool;  # unused period credits carry over instead of expiring
  firstPeriod @4 :SubscriptionPeriod $Rules.required $Json.name("first_period");
  legalEntity @5 :Text $Json.name("legal_entity");
}

struct SubscriptionRenewed {
  subscriptionId @0 :Text $Rules.required $Json.name("subscription_id");
  period @1 :SubscriptionPeriod $Rules.required;
}

struct SubscriptionPlanChanged {
  subscriptionId @0 :Text $Rules.required $Json.name("subscription_id");
  newPlan @1 :Text $Rules.required $Json.name("new_plan");
  newPrice @2 :Money $Rules.required $Json.name("new_price") $Rules.nonNegative;            # per period, from the next period on
  newCreditsPerPeriod @3 :Text $Rules.required $Rules.credits $Json.name("new_credits_per_period") $Rules.nonNegative;
  effectiveAt @4 :Timestamp $Rules.required $Json.name("effective_at");
  prorationAmount @5 :Money $Json.name("proration_amount");                     # charged now (negative: credited)
  prorationTax @6 :Money $Json.name("proration_tax");
  prorationCredits @7 :Text $Rules.credits $Json.name("proration_credits");      # granted now (negative: removed)
  provider @8 :Text;
  reference @9 :Text;
}

struct SubscriptionCancelled {
  subscriptionId @0 :Text $Rules.required $Json.name("subscription_id");
  atPeriodEnd @1 :Bool $Json.name("at_period_end");  # false: ends now
  reason @2 :Text;
}

struct SubscriptionExpired {
  subscriptionId @0 :Text $Rules.required $Json.name("subscription_id");
}

struct SubscriptionPaymentFailed {
  subscriptionId @0 :Text $Rules.required $Json.name("subscription_id");
  amount @1 :Money $Rules.required $Rules.nonNegative;
  attempt @2 :UInt32;
  reason @3 :Text;
}

# ---- Ledger-made -----------------------------------------------------------

struct CreditsExpired {
  lotId @0 :Text $Rules.required $Json.name("lot_id");  # id of the event that created the lot
  credits @1 :Text $Rules.required $Rules.credits $Rules.positive;
}

struct InvoiceLine {
  description @0 :Text $Rules.required;
  quantity @1 :Text $Rules.credits;  # credits, if the line sells credits
  amount @2 :Money $Rules.required;  # net of tax
  tax @3 :Money;
  taxJurisdiction @4 :Text $Json.name("tax_jurisdiction");
}

struct InvoiceIssued {
  number @0 :Text $Rules.required;        # "INV-2026-000123"
  series @1 :Text $Rules.required;        # legal entity and year
  sourceEventId @2 :Text $Rules.required $Json.name("source_event_id"); # the settled payment
  lines @3 :List(InvoiceLine);
  subtotal @4 :Money $Rules.required;
  tax @5 :Money;
  total @6 :Money $Rules.required;
  paymentReference @7 :Text $Rules.required $Json.name("payment_reference");
  legalEntity @8 :Text $Json.name("legal_entity");  # the issuer; empty: the platform's default
}

struct CreditNoteIssued {
  number @0 :Text $Rules.required;
  series @1 :Text $Rules.required;
  invoiceNumber @2 :Text $Rules.required $Json.name("invoice_number"); # the invoice it corrects
  sourceEventId @3 :Text $Rules.required $Json.name("source_event_id"); # the refund
  lines @4 :List(InvoiceLine);
  subtotal @5 :Money $Rules.required;
  tax @6 :Money;
  total @7 :Money $Rules.required;
  legalEntity @8 :Text $Json.name("legal_entity");
}

struct CheckpointSigned {
  checkpointSeq @0 :UInt64 $Json.name("checkpoint_seq");
  hash @1 :Data $Json.hex;
  signedAt @2 :Timestamp $Rules.required $Json.name("signed_at");
  keyId @3 :Text $Rules.required $Json.name("key_id");
  signature @4 :Data $Json.hex;
}

struct SubjectShredded {
  subject @0 :Text $Rules.required;
  purpose @1 :ErasurePurpose $Rules.required;
  keyEpoch @2 :UInt32 $Json.name("key_epoch");
}

struct SegmentArchived {
  firstSeq @0 :UInt64 $Json.name("first_seq");
  lastSeq @1 :UInt64 $Json.name("last_seq");
  prevHash @2 :Data $Json.hex $Json.name("prev_hash");  # hash before firstSeq
  lastHash @3 :Data $Json.hex $Json.name("last_hash");  # hash at lastSeq
  archiveName @4 :Text $Rules.required $Json.name("archive_name");
  baseStateHash @5 :Data $Json.hex $Json.name("base_state_hash");  # the live log's new base
  events @6 :UInt64;                                                # lastSeq - firstSeq + 1
}

struct ArchivedRecord {
  # One record of an archived segment file (docs/formats/archive.md): a
  # Cap'n Proto message per record, in seq order.
  seq @0 :UInt64;
  record @1 :Data;  # the log record as stored under 'E' seq (docs/formats/log.md)
}

# ---- Finance ---------------------------------------------------------------

struct AdjustmentPosted {
  adjustmentId @0 :Text $Rules.required $Json.name("adjustment_id");
  debitAccount @1 :Text $Rules.required $Json.name("debit_account");   # ledger account, e.g. "customer:acct-1:available"
  creditAccount @2 :Text $Rules.required $Json.name("credit_account");
  union {
    credits @3 :Text $Rules.required $Rules.credits $Rules.positive;
    money @4 :Money $Rules.required $Rules.positive;
  }
  reason @5 :Text $Rules.required;
  approver @6 :Text $Rules.required;
}

# ---- The envelope ----------------------------------------------------------

struct Event $Json.discriminator(name = "type", valueName = "data") {
  id @0 :Text $Rules.required;            # producer's idempotency key
  account @1 :Text $Rules.required;       # "_ledger" and other "_" names: the ledger's own
  occurredAt @2 :Timestamp $Rules.required $Json.name("occurred_at");  # producer clock
  recordedAt @3 :Timestamp $Json.name("recorded_at");               # assigned by the ledger
  seq @4 :UInt64;                         # assigned by the ledger, from 1, gap-free
  producer @5 :Text $Rules.required;
  correlationId @6 :Text $Json.name("correlation_id");
  expectedVersion @7 :Int64 = -1 $Json.name("expected_version");         # -1: any; n >= 0: the account must be at version n
  imported @8 :Bool;                      # backfilled from an older billing system

  union {
    accountOpened @9 :AccountOpened $Json.name("account_opened");
    profileUpdated @10 :ProfileUpdated $Json.name("profile_updated");
    accountClosed @11 :AccountClosed $Json.name("account_closed");
    erasureRequested @12 :ErasureRequested $Json.name("erasure_requested");
    topUpSettled @13 :TopUpSettled $Json.name("top_up_settled");
    creditsGranted @14 :CreditsGranted $Json.name("credits_granted");
    taskSubmitted @15 :TaskSubmitted $Json.name("task_submitted");
    holdAccepted @16 :HoldAccepted $Rules.ledgerOnly $Json.name("hold_accepted");
    holdRejected @17 :HoldRejected $Rules.ledgerOnly $Json.name("hold_rejected");
    taskSucceeded @18 :TaskSucceeded $Json.name("task_succeeded");
    taskFailed @19 :TaskFailed $Json.name("task_failed");
    taskCancelled @20 :TaskCancelled $Json.name("task_cancelled");
    reservationExpired @21 :ReservationExpired $Rules.ledgerOnly $Json.name("reservation_expired");
    usageRecorded @22 :UsageRecorded $Json.name("usage_recorded");
    refundIssued @23 :RefundIssued $Json.name("refund_issued");
    chargebackOpened @24 :ChargebackOpened $Json.name("chargeback_opened");
    chargebackResolved @25 :ChargebackResolved $Json.name("chargeback_resolved");
    subscriptionStarted @26 :SubscriptionStarted $Json.name("subscription_started");
    subscriptionRenewed @27 :SubscriptionRenewed $Json.name("subscription_renewed");
    subscriptionPlanChanged @28 :SubscriptionPlanChanged $Json.name("subscription_plan_changed");
    subscriptionCancelled @29 :SubscriptionCancelled $Json.name("subscription_cancelled");
    subscriptionExpired @30 :SubscriptionExpired $Json.name("subscription_expired");
    subscriptionPaymentFailed @31 :SubscriptionPaymentFailed $Json.name("subscription_payment_failed");
    creditsExpired @32 :CreditsExpired $Rules.ledgerOnly $Json.name("credits_expired");
    invoiceIssued @33 :InvoiceIssued $Rules.ledgerOnly $Json.name("invoice_issued");
    creditNoteIssued @34 :CreditNoteIssued $Rules.ledgerOnly $Json.name("credit_note_issued");
    checkpointSigned @35 :CheckpointSigned $Rules.ledgerOnly $Json.name("checkpoint_signed");
    subjectShredded @36 :SubjectShredded $Rules.ledgerOnly $Json.name("subject_shredded");
    segmentArchived @37 :SegmentArchived $Rules.ledgerOnly $Json.name("segment_archived");
    adjustmentPosted @38 :AdjustmentPosted $Json.name("adjustment_posted");
    legalHoldPlaced @40 :LegalHoldPlaced $Json.name("legal_hold_placed");
    legalHoldReleased @41 :LegalHoldReleased $Json.name("legal_hold_released");
    personalDataAccessed @42 :PersonalDataAccessed $Json.name("personal_data_accessed");
  }

  linkGroup @39 :Text $Json.name("link_group");
  # Events of one append batch sharing a link_group are appended all together
  # or not at all (docs/ledger.md, "Linked events").
}
