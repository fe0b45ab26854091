// Posts a JSON payload to a webhook; a non-2xx answer or a timeout is an error so the caller can retry.

export async function postWebhook(url: string, payload: unknown, timeoutMs = 10_000): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'mlcycle' },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`Webhook ${url} answered ${res.status}`);
}
