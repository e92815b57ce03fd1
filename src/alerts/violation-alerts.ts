// The subscriber that turns block and monitor verdicts into webhook alerts: one WebhookSender per
// configured target, each with its own queue, so one dead target does not hold back the others.
// CA files are read once at start (no file read per alert).
import fs from 'node:fs/promises';
import path from 'node:path';
import { ProxyError } from '../core/errors.js';
import { events } from '../core/events.js';
import { isViolation, violationFields } from '../log/violation-fields.js';
import { WebhookSender, type WebhookStats, type WebhookTarget } from './webhook-sender.js';

export type WebhookConfig = Omit<WebhookTarget, 'ca'> & { caFile?: string | undefined };

export interface ViolationAlerts {
  stats(): WebhookStats[];
  close(): void;
}

export async function startViolationAlerts(webhooks: readonly WebhookConfig[]): Promise<ViolationAlerts> {
  const senders: WebhookSender[] = [];
  for (const { caFile, ...target } of webhooks) {
    let ca: string | undefined;
    if (caFile !== undefined) {
      try {
        ca = await fs.readFile(path.resolve(caFile), 'utf8');
      } catch (err) {
        throw new ProxyError('CONFIG_INVALID', `alerts.webhooks ${target.name}: cannot read caFile ${path.resolve(caFile)}`, { cause: err });
      }
    }
    senders.push(new WebhookSender({ ...target, ...(ca ? { ca } : {}) }));
  }
  const unsubscribe =
    senders.length === 0
      ? () => undefined
      : events.verdict.subscribe((event) => {
          if (!isViolation(event)) return;
          const fields = violationFields(event);
          for (const sender of senders) sender.enqueue(fields);
        });
  return {
    stats: () => senders.map((s) => s.stats()),
    close() {
      unsubscribe();
      for (const sender of senders) sender.close();
    },
  };
}
