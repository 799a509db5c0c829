import {
  ApplicationCommand,
  ApplicationCommandOptionType,
  Client,
  Collection,
  DiscordAPIError,
  type APIApplicationCommand,
  type ApplicationCommandData,
} from 'discord.js';
import { TOKEN_REFUSED } from '../../discord-api/discord-rest';
import { differences, registrationFailure } from './command-registrar';

/** A command as GET /applications/{id}/commands answers it: Discord fills in what a definition left out. */
function registered(client: Client, commands: Partial<APIApplicationCommand>[]): Collection<string, ApplicationCommand> {
  return new Collection(
    commands.map((command, index) => {
      const data = {
        id: String(1000 + index),
        application_id: '1',
        version: '1',
        type: 1,
        description: '',
        default_member_permissions: null,
        dm_permission: true,
        nsfw: false,
        integration_types: [0],
        contexts: [0],
        ...command,
      } as APIApplicationCommand;
      // discord.js builds these from GET's answer; its constructor is private in the typings only.
      const Command = ApplicationCommand as unknown as new (client: Client, data: APIApplicationCommand) => ApplicationCommand;
      return [data.id, new Command(client, data)];
    }),
  );
}

describe('differences', () => {
  const client = new Client({ intents: [] });
  afterAll(() => client.destroy());

  const herald: ApplicationCommandData = {
    type: 1,
    name: 'herald',
    description: "Herald's state",
    defaultMemberPermissions: null,
    contexts: [0],
    integrationTypes: [0],
    options: [{ type: ApplicationCommandOptionType.Subcommand, name: 'status', description: 'readiness' }],
  };
  const heraldAsRegistered: Partial<APIApplicationCommand> = {
    name: 'herald',
    description: "Herald's state",
    options: [{ type: ApplicationCommandOptionType.Subcommand, name: 'status', description: 'readiness' }],
  };
  const render: ApplicationCommandData = { type: 3, name: 'Render as image', defaultMemberPermissions: null, contexts: [0], integrationTypes: [0] };

  it('finds nothing when Discord has exactly the definitions (with its defaults filled in)', () => {
    expect(differences(registered(client, [heraldAsRegistered, { type: 3, name: 'Render as image' }]), [herald, render])).toEqual([]);
  });

  it('names a changed, a new and a removed command', () => {
    const changed = registered(client, [
      { ...heraldAsRegistered, description: 'old words' },
      { name: 'ping', description: 'pong' },
    ]);
    expect(differences(changed, [herald, render])).toEqual(['herald', 'Render as image', 'ping (removed)']);
  });

  it('counts a left-out default as a difference only when Discord would fill in another value', () => {
    const { contexts: _contexts, ...withoutContexts } = herald as ApplicationCommandData & { contexts: number[] };
    expect(differences(registered(client, [heraldAsRegistered]), [withoutContexts as ApplicationCommandData])).toEqual(['herald']);
  });
});

describe('registrationFailure (why the commands could not be registered)', () => {
  const refused = (code: number, status: number, message: string) =>
    new DiscordAPIError({ code, message }, code, status, 'PUT', 'http://discord/api/v10/applications/1/guilds/2/commands', { body: [] });

  it("names the missing applications.commands scope when a server refuses the bot's commands", () => {
    expect(registrationFailure(refused(50001, 403, 'Missing Access'), '223456789012345678')).toBe(
      'Discord 403 (code 50001): Missing Access (the bot was added to server 223456789012345678 without the applications.commands scope: ' +
        'add it again with the invite link (Herald logs the link that adds it at start-up), or set DISCORD_COMMANDS=global or off)',
    );
  });

  it('otherwise says what Discord said, as every other Discord failure is said', () => {
    expect(registrationFailure(refused(0, 401, '401: Unauthorized'), undefined)).toBe(`Discord 401 (code 0): 401: Unauthorized (${TOKEN_REFUSED})`);
  });
});
