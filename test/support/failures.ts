/** The ApplicationFailure an activity call rejected with (the test fails if it resolved or threw anything else). */
import { ApplicationFailure } from '@temporalio/common';
import { expect } from 'vitest';

export async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}
