// The shared store's reachability as a lifecycle event: published on every up/down change of
// the Redis tier, so log/ and metrics/ can subscribe without the store calling either.
import dc from 'node:diagnostics_channel';

export type StoreState = 'up' | 'down';

/** Fires when the shared verdict store becomes reachable or unreachable (never twice in a row the same). */
export interface StoreStateEvent {
  store: 'redis';
  state: StoreState;
  /** the Redis URL without its password */
  url: string;
  /** what made it go down (an error code or message), absent on `up` */
  error?: string;
}

const channel = dc.channel('dlp-proxy:verdict:store-state');

export const storeStateChannel = {
  name: 'dlp-proxy:verdict:store-state',
  publish(message: StoreStateEvent): void {
    if (channel.hasSubscribers) channel.publish(message);
  },
  subscribe(fn: (message: StoreStateEvent) => void): () => void {
    const handler = (message: unknown) => fn(message as StoreStateEvent);
    channel.subscribe(handler);
    return () => channel.unsubscribe(handler);
  },
};
