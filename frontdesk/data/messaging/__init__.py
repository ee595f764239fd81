"""Talking to customers: email (SMTP), SMS and WhatsApp (Twilio), through one outbox.

Service API (keyword-only; ``session`` services leave the commit to the caller, ``engine``
services run their own write transactions). Screens call these through run_read/run_write.

consent (who may receive what; the rules are in its docstring)
    refusal(customer, purpose, channel) -> str | None        why not, or None
    preferred_channel(customer, ready=None) -> str | None
    set_consent(session=, customer_id=, purpose=, granted=, actor=, source="desk") -> Customer
    set_consent_bulk(engine=, customer_ids=, purpose=, granted=, actor=) -> int changed
    unsubscribe(session=, email=, actor=None) -> list[Customer]
    set_preferred_channel(session=, customer_id=, channel=, actor=) -> Customer
    history(session=, customer_id=) -> list[ConsentChange]        newest first
    purposes: "reminders" | "birthday" | "marketing" | "newsletter"

templates
    PLACEHOLDERS: dict[name, description]
    check_template(text, field="body")            raises TemplateError (a ValidationFailed)
    list_templates(session=) / get_template(session=, name=)
    save_template(session=, name=, body=, subject=None, channel="email", actor=,
                  template_id=None) -> MessageTemplate                ("templates.write")
    delete_template(session=, template_id=, actor=)
    render(subject=, body=, values=) -> Rendered(subject, text, html)
    placeholders_in(text) -> set[str]; values_for(session=, customer=, business_name=)

outbox
    draft_direct(session=, customer_id=, channel="email", subject=None, body=None,
                 template_name=None, purpose="transactional") -> Draft  (the preview)
    send_direct(session=, customer_id=, actor=, channel=, subject=, body=, template_name=,
                purpose="transactional", idempotency_key=None) -> OutboxMessage
                                                                 ("messages.send")
    list_messages(session=, status=None, customer_id=None, limit=200, before_id=None)
    get_message(session=, message_id=) / message_text(session=, message=) -> Rendered
    status_counts(session=) -> {status: n}
    retry(session=, message_id=, actor=) -> OutboxMessage           ("messages.send")
    send_queue(engine, providers=None, now=None, limit=None, progress=None,
               should_stop=None, batch=100, connections=1) -> SendReport
               (blocking: run it in a worker thread; progress(report) after each message,
               should_stop() between messages — what is claimed but not tried is queued again)
    statuses: queued | sending | sent | failed (next_attempt_at set: retried later) | skipped

reminders
    queue_due(engine, now=None, dry_run=False) -> QueueReport
    notify(engine, now=None, dry_run=False, providers=None) -> NotifyReport

newsletters
    audience_count(session=, search="", filters=None) -> int
    queue_newsletter(engine, subject=, body=, actor=, search="", filters=None, audience="",
                     newsletter_id=None, progress=None) -> QueuedNewsletter
                                                                 ("newsletter.send")
    list_newsletters(session=) / newsletter_progress(session=, newsletter_id=)

config
    load_config(session=) -> MessagingConfig (settings; .ready(channel))
    secret("smtp_password" | "twilio_auth_token")
"""
