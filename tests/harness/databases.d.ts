export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}
/** A fresh, empty PostgreSQL database on the local server: each test file gets its own. */
export declare function createTestDatabase(prefix?: string): Promise<TestDatabase>;
//# sourceMappingURL=databases.d.ts.map
