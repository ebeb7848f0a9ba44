/**
 * Waiting in tests, for the few that must let real time pass (a key cache's short max age, a
 * request that has not arrived yet); the rest move time with fake clocks.
 */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
