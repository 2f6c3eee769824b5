// An authenticator app for the tests: codes from otplib, a TOTP implementation nobody here wrote.
import { generateSync } from "otplib";

const STEP = 30;

/** The app's code for the base32 `secret`, `steps` time steps from now. */
export function totpCode(secret, steps = 0) {
  return generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + steps * STEP });
}

/** Waits until the current time step has at least 8 seconds left, so a code cannot age a step in flight. */
export async function awayFromStepEdge() {
  const into = (Date.now() / 1000) % STEP;
  if (into > STEP - 8) await new Promise((resolve) => setTimeout(resolve, (STEP - into + 1) * 1000));
}
