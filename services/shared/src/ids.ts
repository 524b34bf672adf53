import { v7 } from 'uuid';

/** A new time-ordered id (UUID v7): product and event ids sort by creation, which keyset pagination uses. */
export const newId = (): string => v7();

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => uuidPattern.test(s);
