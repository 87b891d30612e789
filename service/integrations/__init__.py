"""Integrations: ticketing webhooks (inbound), status comments to tickets and chat (outbound, through a
durable outbox), and Slack-compatible slash commands.

    webhook_hmac.py HMAC / Slack signature checks, replay protection (nonces)
    tickets.py    ticket webhook payloads (Jira-shaped, generic) -> open / freeze / destroy
    slack.py      /forensics slash commands -> domain calls, Block Kit replies
    ticketing.py  TicketingClient Protocol + Jira REST and generic JSON clients (httpx; transport injectable)
    chat.py       ChatClient: posts Slack messages to response_url / incoming webhooks (httpx)
    messages.py   the text and Block Kit of every notification
    outbox.py     durable outbox: enqueue in the caller's transaction, deliver in order per stream, backoff
    events.py     session hooks: investigation state changes -> outbox rows, in the same transaction
    wiring.py     install(app, jobs): routers, hooks, Huey tasks (delivery, teardown, drift check)
"""
