import { EntitySchema } from '@mikro-orm/core';

/** A seller's product (DESIGN §2). `version` is the optimistic lock and the events' aggregate version. */
export interface ProductRow {
  id: string;
  sellerId: string;
  title: string;
  description: string | null;
  price: string;
  currency: string;
  stock: number;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

export const ProductEntity = new EntitySchema<ProductRow>({
  name: 'Product',
  tableName: 'product',
  properties: {
    id: { type: 'uuid', primary: true },
    sellerId: { type: 'uuid', fieldName: 'seller_id' },
    title: { type: 'text' },
    description: { type: 'text', nullable: true },
    // numeric comes back from pg as a string: exact money, never a float.
    price: { type: 'decimal', columnType: 'numeric(12,2)' },
    currency: { type: 'string', columnType: 'char(3)', default: 'USD' },
    stock: { type: 'integer' },
    version: { type: 'integer', default: 1 },
    createdAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'created_at' },
    updatedAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'updated_at' },
    deletedAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'deleted_at', nullable: true },
  },
  indexes: [{ name: 'product_seller_id_id_idx', properties: ['sellerId', 'id'] }],
  checks: [
    { name: 'product_price_positive', expression: 'price > 0' },
    { name: 'product_stock_non_negative', expression: 'stock >= 0' },
    { name: 'product_title_length', expression: '(char_length(title) >= 1) and (char_length(title) <= 200)' },
  ],
});
