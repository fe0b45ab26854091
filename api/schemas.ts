// Schemas shared by several routes (TypeBox: JSON schema with static types).
import { Type } from 'typebox';

export const ErrorResponse = Type.Object({ error: Type.String(), code: Type.String() }, { $id: 'ErrorResponse' });

/** Standard error answers, referenced by every route's `response`. */
export const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, Type.Ref('ErrorResponse')]));
