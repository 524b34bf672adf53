import { jest } from '@jest/globals';

// Integration tests wait on real servers (consumer-group joins, CRD establishment): minutes, not seconds.
jest.setTimeout(180_000);
